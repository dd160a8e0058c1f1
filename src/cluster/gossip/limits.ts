/**
 * Every bound of the gossip modules, in one place (STYLE.md §3), with the relations between
 * them checked when the module loads.
 *
 * A hostile or corrupt gossip message is rejected by the codec against these limits before
 * anything is allocated from it; the gossiper never holds more endpoints, states or bytes
 * than these allow, and never builds a message the codec would refuse.
 */
import { assert } from '../../util/assert.js';

/** Endpoints one node tracks, itself included (Cassandra clusters of 1000+ nodes exist; we aim lower). */
export const MAX_GOSSIP_ENDPOINTS = 1024;
/** Digests in one SYN or ACK: one per endpoint at most. */
export const MAX_DIGESTS_PER_MESSAGE = MAX_GOSSIP_ENDPOINTS;
/** Endpoint states in one ACK or ACK2. */
export const MAX_STATES_PER_MESSAGE = MAX_GOSSIP_ENDPOINTS;
/** Application states of one endpoint (about ten are defined; room for more). */
export const MAX_APPLICATION_STATES_PER_ENDPOINT = 32;
/** An application state key: upper-case identifier such as `HOST_ID`. */
export const MAX_APPLICATION_STATE_KEY_LENGTH = 32;
/** An application state value, in UTF-8 bytes: TOKENS of 1536 vnodes is ~32 KiB. */
export const MAX_APPLICATION_STATE_VALUE_BYTES = 64 * 1024;
/** An endpoint id (`host:port`, an IPv6 literal or a DNS name and a port). */
export const MAX_ENDPOINT_ID_LENGTH = 300;
export const MAX_CLUSTER_NAME_LENGTH = 256;
/** One encoded gossip message; the gossiper packs states into ACK/ACK2 within this budget. */
export const MAX_GOSSIP_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Generations are seconds since the epoch; a remote one further ahead of ours than this is refused (Cassandra's MAX_GENERATION_DIFFERENCE). */
export const MAX_GENERATION_AHEAD_SECONDS = 365 * 24 * 3600;
/** Nesting of messages in gossip.proto (envelope → message → state → application state). */
export const MAX_GOSSIP_MESSAGE_DEPTH = 4;

assert(MAX_DIGESTS_PER_MESSAGE >= MAX_GOSSIP_ENDPOINTS, 'a SYN must be able to list every endpoint');
assert(
  MAX_APPLICATION_STATES_PER_ENDPOINT * (MAX_APPLICATION_STATE_VALUE_BYTES + MAX_APPLICATION_STATE_KEY_LENGTH + 64) + MAX_ENDPOINT_ID_LENGTH < MAX_GOSSIP_MESSAGE_BYTES,
  'one full endpoint state must fit in one message',
);
