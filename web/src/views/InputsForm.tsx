// A workflow's inputs as form fields, drawn from its typed input schema: a choice for an enum
// (mode auto/manual/plan), a number field with its bounds, a checkbox for a boolean, text
// otherwise. Values the user leaves alone are not sent (the workflow's defaults apply).
export interface InputSpec {
  name: string; type: string; description?: string; default?: unknown; enum?: unknown[];
  min?: number; max?: number; required?: boolean; multi?: boolean;
}

export function InputsForm({ specs, values, onChange }: {
  specs: InputSpec[]; values: Record<string, unknown>; onChange: (v: Record<string, unknown>) => void;
}) {
  const set = (name: string, value: unknown) => {
    const next = { ...values };
    if (value === "" || value === undefined) delete next[name];
    else next[name] = value;
    onChange(next);
  };
  return (
    <fieldset class="inputs">
      <legend>Inputs</legend>
      {specs.length === 0 && <p class="hint">This workflow takes no inputs.</p>}
      {specs.map((spec) => {
        const id = `input-${spec.name}`;
        const current = values[spec.name];
        const hint = spec.description ?? "";
        if (spec.enum && spec.enum.length > 0) {
          return (
            <label for={id}>{spec.name}{spec.required ? " *" : ""}
              <select id={id} value={current === undefined ? "" : String(current)} title={hint}
                onChange={(e) => set(spec.name, (e.target as HTMLSelectElement).value)}>
                <option value="">{spec.default !== undefined ? `default (${String(spec.default)})` : "—"}</option>
                {spec.enum.map((choice) => <option value={String(choice)}>{String(choice)}</option>)}
              </select>
            </label>
          );
        }
        if (spec.type === "boolean") {
          return (
            <label class="check" for={id}>
              <input id={id} type="checkbox" checked={current === undefined ? Boolean(spec.default) : Boolean(current)}
                onChange={(e) => set(spec.name, (e.target as HTMLInputElement).checked)} />
              {spec.name}
            </label>
          );
        }
        const numeric = spec.type === "number" || spec.type === "integer";
        return (
          <label for={id}>{spec.name}{spec.required ? " *" : ""}
            <input id={id} type={(numeric ? "number" : "text") as any} min={spec.min} max={spec.max} title={hint}
              placeholder={spec.default !== undefined ? String(spec.default) : ""}
              value={current === undefined ? "" : String(current)}
              onInput={(e) => {
                const text = (e.target as HTMLInputElement).value;
                set(spec.name, numeric && text !== "" ? Number(text) : text);
              }} />
          </label>
        );
      })}
    </fieldset>
  );
}
