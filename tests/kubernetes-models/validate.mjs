// Validates Kubernetes objects — a JSON array of them on stdin — against the API's schemas as
// kubernetes-models ships them, and checks that a negative control fails (a validator that
// accepted anything would pass every object). The schemas allow fields they do not name, so a
// misspelt optional field is not caught here. Prints one line per object; exits 1 on any failure.
import { Deployment } from "kubernetes-models/apps/v1";
import { PersistentVolumeClaim, Secret, Service } from "kubernetes-models/v1";

const kinds = { Deployment, PersistentVolumeClaim, Secret, Service };
const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});
const objects = JSON.parse(input);
let passed = 0;
let failed = 0;
const check = (object) => {
  const Kind = kinds[object.kind];
  if (!Kind) throw new Error(`unexpected kind ${object.kind}`);
  new Kind(object).validate();
};
for (const object of objects) {
  const what = `${object.kind} ${object.metadata?.name}`;
  try {
    check(object);
    passed++;
    console.log(`ok   ${what}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${what}: ${e.message}`);
  }
}
// Negative controls, one shallow and one deep in the pod's template.
const controls = {
  'replicas: "one"': (o) => (o.spec.replicas = "one"),
  "an env entry without a name": (o) => (o.spec.template.spec.containers[0].env[0] = { value: "x" }),
};
for (const [what, breakIt] of Object.entries(controls)) {
  const broken = structuredClone(objects.find((o) => o.kind === "Deployment"));
  breakIt(broken);
  try {
    check(broken);
    failed++;
    console.log(`FAIL the negative control (${what}) was accepted`);
  } catch {
    passed++;
    console.log(`ok   the negative control (${what}) is refused`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && objects.length > 0 ? 0 : 1);
