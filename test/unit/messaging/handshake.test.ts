import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../../../src/messaging/errors.js';
import {
  checkConfirm,
  checkHello,
  checkReply,
  decodeConfirm,
  decodeErrorResponse,
  decodeHello,
  decodeReply,
  encodeConfirm,
  encodeErrorResponse,
  encodeHello,
  encodeReply,
  makeConfirm,
  makeHello,
  makeRefusalReply,
  makeReply,
  MESSAGING_PROTOCOL_VERSION,
  newNonce,
  type LocalIdentity,
} from '../../../src/messaging/handshake.js';

function identity(hostId: string, overrides: Partial<LocalIdentity> = {}): LocalIdentity {
  return { clusterName: 'prod', hostId, listenAddress: { host: '127.0.0.1', port: 7000 }, secret: '', ...overrides };
}

/** Runs the three messages through their encodings; who refused first and why. */
function handshake(dialer: LocalIdentity, acceptor: LocalIdentity): { refusedBy: 'dialer' | 'acceptor' | null; reason: string | null } {
  const sentHello = makeHello(dialer, newNonce());
  const hello = decodeHello(encodeHello(sentHello));
  const helloRefusal = checkHello(acceptor, hello);
  if (helloRefusal !== null) return { refusedBy: 'acceptor', reason: helloRefusal };
  const sentReply = makeReply(acceptor, hello, newNonce());
  const reply = decodeReply(encodeReply(sentReply));
  const replyRefusal = checkReply(dialer, sentHello, reply);
  if (replyRefusal !== null) return { refusedBy: 'dialer', reason: replyRefusal };
  const confirm = decodeConfirm(encodeConfirm(makeConfirm(dialer, sentHello, reply)));
  const confirmRefusal = checkConfirm(acceptor, hello, sentReply, confirm);
  return confirmRefusal === null ? { refusedBy: null, reason: null } : { refusedBy: 'acceptor', reason: confirmRefusal };
}

describe('handshake checks', () => {
  it('accepts two nodes of the same cluster without a secret', () => {
    expect(handshake(identity('a'), identity('b'))).toEqual({ refusedBy: null, reason: null });
  });

  it('accepts two nodes sharing a secret', () => {
    expect(handshake(identity('a', { secret: 's3cret' }), identity('b', { secret: 's3cret' }))).toEqual({ refusedBy: null, reason: null });
  });

  it('refuses another cluster name at the Hello', () => {
    expect(handshake(identity('a', { clusterName: 'test' }), identity('b'))).toEqual({
      refusedBy: 'acceptor',
      reason: "cluster name mismatch: ours 'prod', peer's 'test'",
    });
  });

  it('refuses another protocol version and a peer with our own host id', () => {
    const hello = { ...makeHello(identity('a'), newNonce()), protocolVersion: MESSAGING_PROTOCOL_VERSION + 1 };
    expect(checkHello(identity('b'), decodeHello(encodeHello(hello)))).toMatch(/protocol version mismatch/);
    expect(handshake(identity('a'), identity('a'))).toMatchObject({ refusedBy: 'acceptor', reason: 'peer has our own host id a' });
  });

  it('refuses a wrong secret, and a secret on one side only, in both directions', () => {
    expect(handshake(identity('a', { secret: 'x' }), identity('b', { secret: 'y' }))).toEqual({ refusedBy: 'dialer', reason: 'wrong internode_secret proof' });
    expect(handshake(identity('a', { secret: 'x' }), identity('b'))).toEqual({ refusedBy: 'dialer', reason: 'peer presented no internode_secret proof' });
    expect(handshake(identity('a'), identity('b', { secret: 'y' }))).toEqual({ refusedBy: 'dialer', reason: 'peer requires internode_secret, we have none' });
  });

  it('refuses a dialer whose confirmation proof is not its own (a reply proof replayed, a stale one)', () => {
    const dialer = identity('a', { secret: 's' });
    const acceptor = identity('b', { secret: 's' });
    const hello = makeHello(dialer, newNonce());
    const reply = makeReply(acceptor, hello, newNonce());
    // Reflecting the acceptor's own proof back fails: the two proofs have different labels.
    expect(checkConfirm(acceptor, hello, reply, { proof: reply.proof, refusal: '' })).toBe('wrong internode_secret proof');
    // A confirmation from an earlier connection fails: it covers other nonces.
    const earlier = makeReply(acceptor, hello, newNonce());
    expect(checkConfirm(acceptor, hello, reply, makeConfirm(dialer, hello, earlier))).toBe('wrong internode_secret proof');
    expect(checkConfirm(acceptor, hello, reply, makeConfirm(dialer, hello, reply))).toBeNull();
  });

  it("passes the acceptor's refusal to the dialer", () => {
    const reply = decodeReply(encodeReply(makeRefusalReply(identity('b'), 'too many peers')));
    expect(checkReply(identity('a'), makeHello(identity('a'), newNonce()), reply)).toBe('refused by peer: too many peers');
  });
});

describe('handshake decoding', () => {
  it('round-trips a Hello', () => {
    const hello = makeHello(identity('6f1c-…'), newNonce());
    expect(decodeHello(encodeHello(hello))).toEqual({ ...hello, nonce: Buffer.from(hello.nonce) });
  });

  it('rejects missing or oversized fields with FrameError', () => {
    const base = makeHello(identity('a'), newNonce());
    for (const bad of [
      { ...base, clusterName: '' },
      { ...base, clusterName: 'c'.repeat(257) },
      { ...base, hostId: 'h'.repeat(65) },
      { ...base, listenAddress: { host: '127.0.0.1', port: 0 } },
      { ...base, nonce: new Uint8Array(8) },
    ]) {
      expect(() => decodeHello(encodeHello(bad))).toThrow(FrameError);
    }
  });

  it('never throws anything but FrameError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        for (const decode of [decodeHello, decodeReply, decodeConfirm]) {
          try {
            decode(junk);
          } catch (e) {
            expect(e).toBeInstanceOf(FrameError);
          }
        }
        expect(typeof decodeErrorResponse(junk)).toBe('string');
      }),
      { numRuns: 300 },
    );
  });

  it('cuts a long error message to 1024 bytes at a character boundary', () => {
    expect(decodeErrorResponse(encodeErrorResponse('boom'))).toBe('boom');
    const long = decodeErrorResponse(encodeErrorResponse('é'.repeat(2000)));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(1024);
    expect(long).toBe('é'.repeat(512));
  });
});
