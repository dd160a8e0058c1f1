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

/** The address of a `host:port` endpoint (the inverse of `peerKey`). */
export function parseEndpoint(endpoint: string): PeerAddress {
  const i = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(endpoint.slice(i + 1)) };
}

/**
 * Ring endpoints as messaging addresses, parsed once each: the same object every time, which
 * the messaging service also recognises cheaply. Bounded: past `maxEntries` endpoints (more than
 * any ring a node talks to, unless it churns) it starts over.
 */
export class PeerAddressCache {
  private readonly addresses = new Map<string, PeerAddress>();

  constructor(private readonly maxEntries = 4096) {}

  get(endpoint: string): PeerAddress {
    let address = this.addresses.get(endpoint);
    if (address === undefined) {
      if (this.addresses.size >= this.maxEntries) this.addresses.clear();
      address = parseEndpoint(endpoint);
      this.addresses.set(endpoint, address);
    }
    return address;
  }
}
