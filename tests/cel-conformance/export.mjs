// Writes cel-spec's conformance tests, as @bufbuild/cel-spec ships them, for the sections Reliant's
// CEL is held to, as JSON for tests/conformance/cel_conformance.cc:
//   node tests/cel-conformance/export.mjs OUT.json
// OUT.json: {"sections": [{"name": "basic", "tests": [SimpleTest…]}]}, each test the package's
// proto3 JSON of cel.expr.conformance.test.SimpleTest (expr, bindings, value or evalError,
// disableMacros, disableCheck, checkOnly, container, typeEnv …) with its name prefixed by its
// subsection ("variables/self_eval_bound_lookup").
import { writeFileSync } from "node:fs";
import { tests } from "@bufbuild/cel-spec/testdata/conformance.js";

const SECTIONS = [
  "basic", "comparisons", "conversions", "fp_math", "integer_math", "lists", "logic",
  "macros", "parse", "plumbing", "string", "timestamps", "optionals",
];

const out = process.argv[2];
if (!out) {
  console.error("usage: node export.mjs OUT.json");
  process.exit(2);
}

const sections = SECTIONS.map((name) => {
  const section = tests.suites.find((suite) => suite.name === name);
  if (!section) {
    console.error(`export.mjs: @bufbuild/cel-spec has no conformance section '${name}'`);
    process.exit(1);
  }
  const flat = [];
  const walk = (suite, prefix) => {
    for (const test of suite.tests ?? []) {
      flat.push({ ...test.original, name: prefix + test.original.name });
    }
    for (const child of suite.suites ?? []) walk(child, `${prefix}${child.name}/`);
  };
  walk(section, "");
  return { name, tests: flat };
});

writeFileSync(out, JSON.stringify({ sections }, null, 1));
console.log(`export.mjs: ${sections.reduce((n, s) => n + s.tests.length, 0)} tests in ` +
            `${sections.length} sections to ${out}`);
