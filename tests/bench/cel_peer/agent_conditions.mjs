// The peer of bench_cel: @bufbuild/cel evaluating the agent loop's conditions
// (../agent_conditions.json), each planned once and then evaluated in timed batches. Prints one
// JSON line per expression: nanoseconds per evaluation at the 50th and 90th percentile of the
// batches, and the value (to check both evaluators agree).
import { readFileSync } from "node:fs";
import { celEnv, isCelError, parse, plan } from "@bufbuild/cel";

const spec = JSON.parse(readFileSync(new URL("../agent_conditions.json", import.meta.url)));
const batches = Number(process.argv[2] ?? 200);
const perBatch = Number(process.argv[3] ?? 2000);

// JSON to CEL input: integers as int (bigint), objects as maps.
function cel(value) {
  if (Array.isArray(value)) return value.map(cel);
  if (value !== null && typeof value === "object") {
    return new Map(Object.entries(value).map(([k, v]) => [k, cel(v)]));
  }
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  return value;
}
const bindings = Object.fromEntries(Object.entries(spec.variables).map(([k, v]) => [k, cel(v)]));

for (const source of spec.expressions) {
  const run = plan(celEnv(), parse(source));
  const value = run(bindings);
  if (isCelError(value)) throw new Error(`${source}: ${value.message}`);
  for (let i = 0; i < perBatch * 10; i++) run(bindings);  // warm up the JIT
  const samples = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) run(bindings);
    samples.push(Number(process.hrtime.bigint() - start) / perBatch);
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  console.log(JSON.stringify({ expression: source, p50_ns: at(0.5), p90_ns: at(0.9), value: String(value) }));
}
