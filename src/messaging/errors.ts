/**
 * Errors of internode messaging. None of them reaches a client as such: the coordinator turns
 * a failed or timed-out replica request into the SPEC's `WriteTimeout`, `ReadFailure`, … and a
 * hint. Each class has a stable `name`; the doc comment says when it is thrown.
 */
import type { PeerAddress } from './peer.js';

export abstract class MessagingError extends Error {}

/**
 * A frame that cannot be valid: unknown format version or flags, a length above the limit, a
 * frame kind the connection's direction does not allow, a malformed handshake message. The
 * owner of the connection closes that one connection; nothing else is affected.
 */
export class FrameError extends MessagingError {
  override readonly name = 'FrameError';
}

/** The peer's handler threw, or the peer has no handler for the verb. `message` is the peer's. */
export class RemoteError extends MessagingError {
  override readonly name = 'RemoteError';
  constructor(
    message: string,
    readonly peer: PeerAddress,
    readonly verb: number,
  ) {
    super(message);
  }
}

/** No response within the request's own timeout (time spent queued included). */
export class RequestTimeoutError extends MessagingError {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly peer: PeerAddress,
    readonly verb: number,
    readonly timeoutMs: number,
  ) {
    super(`no response from ${peer.host}:${peer.port} to verb ${verb} within ${timeoutMs} ms`);
  }
}

/** The peer's outbound queue was full (`internode_queue_max_messages`): the message was dropped. */
export class MessageDroppedError extends MessagingError {
  override readonly name = 'MessageDroppedError';
  constructor(readonly peer: PeerAddress) {
    super(`outbound queue to ${peer.host}:${peer.port} is full: message dropped`);
  }
}

/** The payload does not fit in one frame (`internode_max_message_bytes`). */
export class MessageTooLargeError extends MessagingError {
  override readonly name = 'MessageTooLargeError';
  constructor(
    readonly payloadBytes: number,
    readonly maxPayloadBytes: number,
  ) {
    super(`message payload of ${payloadBytes} bytes exceeds the limit of ${maxPayloadBytes}`);
  }
}

/**
 * The connection carrying the request closed before its response arrived. The request may or
 * may not have been applied by the peer.
 */
export class ConnectionLostError extends MessagingError {
  override readonly name = 'ConnectionLostError';
  constructor(readonly peer: PeerAddress) {
    super(`connection to ${peer.host}:${peer.port} lost before the response arrived`);
  }
}

/** The handshake with the peer was refused (by either side); queued messages fail with this. */
export class HandshakeRefusedError extends MessagingError {
  override readonly name = 'HandshakeRefusedError';
  constructor(
    readonly peer: PeerAddress,
    readonly reason: string,
  ) {
    super(`handshake with ${peer.host}:${peer.port} refused: ${reason}`);
  }
}

/** The messaging service is not started, or stopped while the message waited. */
export class MessagingStoppedError extends MessagingError {
  override readonly name = 'MessagingStoppedError';
  constructor() {
    super('messaging service is not running');
  }
}
