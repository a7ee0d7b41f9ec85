// Leases on cells (ResultStore.claimNext): who holds one and for how long. A study's workers and a single `run` that
// resumes by its settings hash both claim through a lease, renewed while they work, so a process killed mid-cell
// (kill -9, a lost machine) lets its claim lapse instead of holding it forever.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { InputError } from "../errors.ts";
import type { Lease, ResultStore } from "./types.ts";

/** How long a claim on a cell lasts without renewal when neither the study nor PTALIGN_LEASE_SECONDS says. */
export const DEFAULT_LEASE_SECONDS = 30;

/** The lease time in ms: `seconds` (a study's `lease_seconds`), else PTALIGN_LEASE_SECONDS, else 30 s. */
export function leaseMsOf(seconds: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (seconds !== undefined) return seconds * 1000;
  const fromEnv = env.PTALIGN_LEASE_SECONDS;
  if (fromEnv !== undefined && fromEnv !== "") {
    const s = Number(fromEnv);
    if (!Number.isFinite(s) || s < 0.1 || s > 86_400) throw new InputError(`PTALIGN_LEASE_SECONDS must be a number of seconds from 0.1 to 86400 (got ${fromEnv})`);
    return s * 1000;
  }
  return DEFAULT_LEASE_SECONDS * 1000;
}

// The leases this process holds now. A claim whose release failed (a full disk) names this process as its owner
// while it is alive, so the pid alone cannot tell a store that the claim is abandoned when the same process (a
// library user, the in-process CLI) claims again: the owner not being in this set can.
const heldHere = new Set<string>();

/** A new lease for this process: `host:pid:random` is unique per worker, and a store recognises a dead local owner by it. */
export function newLease(ms: number): Lease {
  const lease = { owner: `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`, ms };
  heldHere.add(lease.owner);
  return lease;
}

/** This process is done with the lease (its cells released, or abandoned after a failure). */
export function dropLease(lease: Lease): void {
  heldHere.delete(lease.owner);
}

/**
 * Whether the owner of a claim is certainly gone: a process on this host that no longer runs, or this process when
 * it no longer holds that lease. An owner on another host is never presumed gone (its lease lapses instead).
 */
export function ownerGone(owner: string): boolean {
  const [host, pid] = owner.split(":");
  if (host !== hostname() || !/^\d+$/.test(pid ?? "")) return false;
  if (Number(pid) === process.pid) return !heldHere.has(owner);
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH"; // EPERM: alive, another user's
  }
}

/**
 * Renews the lease on `cell` every third of its time until the returned stop is called; `onLost` when the store says
 * it is no longer ours. A renewal that fails (the store unreachable for a moment) is tried again at the next tick.
 */
export function keepRenewed(store: ResultStore, cell: string, lease: Lease, onLost: () => void = () => {}): () => void {
  const timer = setInterval(() => {
    store.renewCell(cell, lease).then(
      (ours) => {
        if (!ours) onLost();
      },
      () => {},
    );
  }, Math.max(50, lease.ms / 3));
  timer.unref(); // never what keeps the process alive
  return () => clearInterval(timer);
}
