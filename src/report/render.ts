// What `view` renders, as plain functions of a results directory: the page, and the charts of one measurement. They
// run in a worker thread (renderWorker.ts) so that the server's event loop stays free: a 2,000-cell study's page kept
// /version waiting 87 s behind a synchronous render.

import { shownLocation } from "../store/registry.ts";
import { loadTaskResults } from "../tasks/store.ts";
import { buildReport, runDetail } from "./html.ts";
import { loadRuns } from "./partial.ts";

export interface PageRequest {
  kind: "page";
  dir: string;
  version: string;
  /** URL prefix the page loads a compact section's charts from (+ the measurement's id). */
  onDemand: string;
}

export interface ChartsRequest {
  kind: "charts";
  dir: string;
  id: string;
}

export type RenderRequest = PageRequest | ChartsRequest;

/** The HTML for a request; a charts request for an unknown id is null (404). */
export async function render(req: RenderRequest): Promise<string | null> {
  if (req.kind === "page") {
    const runs = await loadRuns(req.dir);
    return buildReport(runs, { source: shownLocation(req.dir), live: { versionUrl: "/version", version: req.version }, tasks: await loadTaskResults(req.dir), onDemand: req.onDemand });
  }
  const [run] = await loadRuns(req.dir, { only: req.id });
  return run ? runDetail(run) : null;
}
