/**
 * Cluster gauges, read when Prometheus scrapes: each peer's phi (the failure detector's
 * suspicion), peers UP and DOWN, and the internode messaging counters per peer (queued,
 * dropped, timeouts) so overload and partitions show up on a dashboard.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ClusterService } from '../cluster/cluster-service.js';
import type { MessagingService } from '../messaging/messaging-service.js';
import { scrapedGauge, scrapedLabelledGauge } from './registry.js';

export function registerClusterMetrics(registry: Registry, cluster: ClusterService, messaging: MessagingService): void {
  new Gauge({
    name: 'ringtail_peer_phi',
    help: 'Phi-accrual suspicion level of each peer (DOWN above phi_convict_threshold)',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [peer, phi] of cluster.phis()) this.set({ peer }, Number.isFinite(phi) ? phi : 1e9);
    },
  });
  new Gauge({
    name: 'ringtail_peers',
    help: 'Known peers by liveness as this node sees them',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      const nodes = cluster.status().nodes.filter((n) => n.internode !== cluster.self);
      this.set({ status: 'UP' }, nodes.filter((n) => n.status === 'UP').length);
      this.set({ status: 'DOWN' }, nodes.filter((n) => n.status === 'DOWN').length);
    },
  });
  const perPeer = (name: string, help: string, read: (p: ReturnType<MessagingService['stats']>['peers'][number]) => number): void =>
    scrapedLabelledGauge(registry, name, help, ['peer'], () => messaging.stats().peers.map((p) => [{ peer: p.peer }, read(p)] as const));
  perPeer('ringtail_internode_dropped_messages', 'Messages to the peer dropped since start (queue full or connection lost)', (p) => p.dropped);
  perPeer('ringtail_internode_timeouts', 'Requests to the peer that timed out since start', (p) => p.timeouts);
  perPeer('ringtail_internode_queued_messages', 'Messages waiting in the outbound queue to the peer', (p) => p.queued);
  scrapedGauge(registry, 'ringtail_internode_refused_handshakes', 'Internode handshakes refused (wrong cluster name, secret or protocol version)', () => messaging.stats().refusedHandshakes);
}
