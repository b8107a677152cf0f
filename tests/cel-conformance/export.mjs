// Writes cel-spec's conformance tests, as @bufbuild/cel-spec ships them, for the sections Reliant's
// CEL is held to, as JSON for tests/conformance/cel_conformance.cc:
//   node tests/cel-conformance/export.mjs OUT.json
// OUT.json: {"sections": [{"name": "basic", "tests": [SimpleTest…]}], "types": [MessageType…]},
// each test the package's proto3 JSON of cel.expr.conformance.test.SimpleTest (expr, bindings,
// value or evalError, disableMacros, disableCheck, checkOnly, container, typeEnv …) with its name
// prefixed by its subsection ("variables/self_eval_bound_lookup"); "types" the schema of the
// message types the tests build (TestAllTypes, NestedTestAllTypes and what their fields need) in
// the form reliant::cel::TypeRegistry::from_json reads (src/core/cel/messages.h), taken from the
// package's generated descriptors.
import { writeFileSync } from "node:fs";
import { tests } from "@bufbuild/cel-spec/testdata/conformance.js";
import { file_cel_expr_conformance_proto2_test_all_types as proto2 } from "@bufbuild/cel-spec/cel/expr/conformance/proto2/test_all_types_pb.js";
import { file_cel_expr_conformance_proto3_test_all_types as proto3 } from "@bufbuild/cel-spec/cel/expr/conformance/proto3/test_all_types_pb.js";

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

// google.protobuf's types that CEL maps to its own values (src/core/cel/well_known.h): fields
// name them, the schema does not define them.
const CEL_VALUE_TYPES = new Set([
  "Any", "BoolValue", "BytesValue", "DoubleValue", "FloatValue", "Int32Value", "Int64Value",
  "StringValue", "UInt32Value", "UInt64Value", "Value", "Struct", "ListValue", "Timestamp",
  "Duration",
].map((name) => `google.protobuf.${name}`));
// @bufbuild/protobuf's ScalarType numbers (descriptor.proto's FieldDescriptorProto.Type).
const SCALARS = {
  1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32",
  8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32",
  18: "sint64",
};
const SYNTAX = { 998: "proto2", 999: "proto3" };  // the Edition enum's EDITION_PROTO2, _PROTO3
const IMPLICIT_PRESENCE = 2;  // FeatureSet.FieldPresence.IMPLICIT

// A proto2 [default = …] as proto3 JSON writes it: 64-bit integers as strings, bytes as base64.
const defaultJson = (value) => {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  }
  return value;
};

// Each message type of the files, nested ones included, and every type their fields reach.
const schema = (files) => {
  const types = [];
  const seen = new Set();
  const add = (message) => {
    if (seen.has(message.typeName) || CEL_VALUE_TYPES.has(message.typeName)) return;
    seen.add(message.typeName);
    const syntax = SYNTAX[message.file.edition];
    if (!syntax) {
      console.error(`export.mjs: ${message.typeName} is neither proto2 nor proto3`);
      process.exit(1);
    }
    const reached = [...message.nestedMessages];
    const fields = message.fields.map((field) => {
      const out = { name: field.name };
      const kind = { list: field.listKind, map: field.mapKind }[field.fieldKind] ?? field.fieldKind;
      if (kind === "scalar") out.scalar = SCALARS[field.scalar];
      if (kind === "enum") out.enum = field.enum.typeName;
      if (kind === "message") {
        out.message = field.message.typeName;
        reached.push(field.message);
      }
      if (field.fieldKind === "list") out.repeated = true;
      if (field.fieldKind === "map") out.map_key = SCALARS[field.mapKey];
      if (field.fieldKind === "scalar" || field.fieldKind === "enum") {
        // Only where it differs from what the syntax implies; a oneof member always has it.
        const explicit = field.presence !== IMPLICIT_PRESENCE;
        if (field.oneof) out.oneof = field.oneof.name;
        else if (explicit !== (syntax === "proto2")) out.presence = explicit ? "explicit" : "implicit";
        const value = field.getDefaultValue();
        if (value !== undefined) out.default = defaultJson(value);
      } else if (field.oneof) {
        out.oneof = field.oneof.name;
      }
      return out;
    });
    types.push({ name: message.typeName, syntax, fields });
    for (const next of reached) add(next);
  };
  for (const file of files) for (const message of file.messages) add(message);
  return types;
};

const types = schema([proto2, proto3]);
writeFileSync(out, JSON.stringify({ sections, types }, null, 1));
console.log(`export.mjs: ${sections.reduce((n, s) => n + s.tests.length, 0)} tests in ` +
            `${sections.length} sections and ${types.length} message types to ${out}`);
