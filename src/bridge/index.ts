/**
 * `atomic-log/bridge`: a log beyond one machine, through NATS JetStream.
 *
 * {@link publish} tails a log and publishes each available run of records as
 * one JetStream message; {@link replica} consumes such a stream into a local
 * log (in memory or durable) with the same sequence numbers. The NATS client
 * packages (`@nats-io/transport-node`, `@nats-io/jetstream`) are optional peer
 * dependencies: only this entry point imports them, and `atomic-log` itself
 * never imports this one.
 */
export { publish, Bridge, type PublishOptions, type BridgeStats, type StopOptions } from "./publish.ts";
export { replica, Replica, type ReplicaOptions, type ReplicaStats } from "./replica.ts";
export { windowLimits, type Retention, type ExplicitRetention, type StreamLimits } from "./retention.ts";
export { BridgeHeaders, messageId, readMeta, type MessageMeta } from "./headers.ts";
export { BridgeFencedError, BridgeStreamError, PayloadLengthError } from "./errors.ts";
export type { ConnectOptions } from "./nats.ts";
