/**
 * One phi-accrual detector per remote endpoint, and the conviction rule.
 *
 * Pattern: HeartBeat (Joshi); Cassandra's `FailureDetector` (`report`, `interpret`,
 * `phi_convict_threshold`). Pure: every method takes the clock reading it needs.
 *
 * Invariants: an endpoint has a detector from its first `report` until `remove`; `phi` of an
 * unknown endpoint is 0 (never convicted: nothing was ever heard from it). Bounds: at most
 * `maxEndpoints` detectors (the gossiper's own endpoint bound); `report` for one more throws,
 * the caller bounds membership first.
 */
import { assert } from '../../util/assert.js';
import { PhiAccrualDetector, type PhiAccrualOptions } from './phi-accrual.js';

export interface FailureDetectorOptions {
  readonly phiConvictThreshold: number;
  readonly maxEndpoints: number;
  readonly detector: PhiAccrualOptions;
}

export class FailureDetector {
  private readonly detectors = new Map<string, PhiAccrualDetector>();

  constructor(private readonly options: FailureDetectorOptions) {
    assert(options.phiConvictThreshold > 0, 'phiConvictThreshold must be positive');
    assert(Number.isInteger(options.maxEndpoints) && options.maxEndpoints >= 1, 'maxEndpoints must be a positive integer');
  }

  get phiConvictThreshold(): number {
    return this.options.phiConvictThreshold;
  }

  /** A heartbeat of `endpoint` (a higher heartbeat version) was seen at `nowMs`. */
  report(endpoint: string, nowMs: number): void {
    let detector = this.detectors.get(endpoint);
    if (detector === undefined) {
      assert(this.detectors.size < this.options.maxEndpoints, `failure detector full (${this.options.maxEndpoints} endpoints)`);
      detector = new PhiAccrualDetector(this.options.detector);
      this.detectors.set(endpoint, detector);
    }
    detector.heartbeat(nowMs);
  }

  phi(endpoint: string, nowMs: number): number {
    return this.detectors.get(endpoint)?.phi(nowMs) ?? 0;
  }

  /** True when phi is above the threshold: the endpoint should be marked DOWN. */
  isConvicted(endpoint: string, nowMs: number): boolean {
    return this.phi(endpoint, nowMs) > this.options.phiConvictThreshold;
  }

  /** Forgets an endpoint's history (it restarted with a new generation, or left). */
  remove(endpoint: string): void {
    this.detectors.delete(endpoint);
  }

  has(endpoint: string): boolean {
    return this.detectors.has(endpoint);
  }

  detectorOf(endpoint: string): PhiAccrualDetector | undefined {
    return this.detectors.get(endpoint);
  }

  /** phi of every tracked endpoint, for metrics (`phi per peer`) and gossipinfo. */
  phis(nowMs: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [endpoint, detector] of this.detectors) out.set(endpoint, detector.phi(nowMs));
    return out;
  }
}
