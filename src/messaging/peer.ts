/**
 * How messaging names a peer. A peer is addressed by its advertised internode listen address
 * (`listen_address:internode_port`); its host id is learnt at the handshake.
 */

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** A peer that completed the handshake: who it says it is, authenticated when a secret is set. */
export interface PeerInfo {
  readonly hostId: string;
  /** The peer's own listen address (where we dial it), not the source address of the socket. */
  readonly address: PeerAddress;
}

/** The map key and log label of a peer: `host:port` (IPv6 hosts in brackets). */
export function peerKey(address: PeerAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
