// Health answers for load balancers and Kubernetes probes (docs/deploy.md, "Health"). They are
// computed by the master from its own state and the scoreboard, never by asking the app: a
// probe must not queue behind requests, and an app that is slow is not a dead instance.
//  - liveness (/healthz): the master's event loop answers. A worker that crashes is respawned
//    by the master, so a dead worker is not a reason to restart the whole instance.
//  - readiness (/readyz): the instance takes new requests. It turns false at the start of a
//    graceful stop (with --shutdown-delay, while every socket still serves), so balancers drain
//    the instance before it closes its sockets.

export interface Readiness {
  ready: boolean;
  /** Why not (or "ready"): one short phrase, shown in the 503 body. */
  reason: string;
}

export interface HealthAnswer {
  status: number;
  body: string;
}

export function livenessAnswer(): HealthAnswer {
  return { status: 200, body: 'ok\n' };
}

export function readinessAnswer(r: Readiness): HealthAnswer {
  return r.ready ? { status: 200, body: 'ready\n' } : { status: 503, body: `not ready: ${r.reason}\n` };
}
