// The codegen chart's temperature labels (issue 13): coinciding points share one label that says it is a temperature.
import assert from "node:assert/strict";
import { it } from "node:test";
import { passDiversitySpec, temperatureLabels, type PassDiversityPoint } from "../../src/tasks/codegen/plots.ts";

const point = (temperature: number, pass: number, div: number): PassDiversityPoint => ({ model: "m", temperature, pass_at_k: pass, edit_distance: div, distinct: 1, pass1_sd: 0 });

it("points of several temperatures on the same spot get one label, T=…, instead of overprinted numbers", () => {
  const labels = temperatureLabels([point(1, 1, 0), point(0.2, 1, 0), point(0.7, 0.5, 0.4)]);
  assert.deepEqual(labels.map((l) => l.text).sort(), ["T=0.2, 1.0", "T=0.7"]);
  const spec = JSON.stringify(passDiversitySpec([{ task: "codegen", model: "m", summaries: [] } as never]));
  assert.doesNotMatch(spec, /"format":".1f"/, "no bare number labels");
});
