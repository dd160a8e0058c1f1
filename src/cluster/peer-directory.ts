/**
 * What the write path needs to know about peers from gossip, kept current from gossip events:
 * each endpoint's host id (hints are stored per host id, so a node that moves address keeps its
 * hints) and since when the failure detector has called it DOWN (a replica down longer than
 * `max_hint_window_ms` gets no more hints). UP and DOWN are passed on to listeners (hint replay).
 *
 * Bounds: one entry per endpoint gossip knows about; removed endpoints are forgotten.
 */
import type { Clock } from '../runtime/clock.js';
import { ApplicationStateKey } from './gossip/endpoint-state.js';
import type { GossipEvent } from './gossip/gossiper.js';

export interface PeerListener {
  up(hostId: string, endpoint: string): void;
  down(hostId: string, endpoint: string): void;
}

export class PeerDirectory {
  private readonly hostIds = new Map<string, string>();
  private readonly downSince = new Map<string, number>();
  private readonly listeners: PeerListener[] = [];

  constructor(private readonly clock: Clock) {}

  listen(listener: PeerListener): void {
    this.listeners.push(listener);
  }

  hostIdOf(endpoint: string): string | undefined {
    return this.hostIds.get(endpoint);
  }

  /** When the endpoint was last seen going DOWN (ms since the epoch); null while it is UP. */
  downSinceMs(endpoint: string): number | null {
    return this.downSince.get(endpoint) ?? null;
  }

  onGossipEvent(e: GossipEvent): void {
    switch (e.kind) {
      case 'joined':
      case 'restarted': {
        const hostId = e.state.applicationStates.get(ApplicationStateKey.HOST_ID)?.value;
        if (hostId !== undefined && hostId !== '') this.hostIds.set(e.endpoint, hostId);
        return;
      }
      case 'changed':
        if (e.key === ApplicationStateKey.HOST_ID && e.value !== '') this.hostIds.set(e.endpoint, e.value);
        return;
      case 'up': {
        this.downSince.delete(e.endpoint);
        const hostId = this.hostIds.get(e.endpoint);
        if (hostId !== undefined) for (const l of this.listeners) l.up(hostId, e.endpoint);
        return;
      }
      case 'down': {
        if (!this.downSince.has(e.endpoint)) this.downSince.set(e.endpoint, this.clock.nowMs());
        const hostId = this.hostIds.get(e.endpoint);
        if (hostId !== undefined) for (const l of this.listeners) l.down(hostId, e.endpoint);
        return;
      }
      case 'removed':
        this.hostIds.delete(e.endpoint);
        this.downSince.delete(e.endpoint);
        return;
    }
  }
}
