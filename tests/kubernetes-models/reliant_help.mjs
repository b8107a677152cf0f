// The `reliant` binary's subcommands and options, as its --help prints them (CLI11's format), for
// checking the command lines and variables the manifests give it.
import { execFileSync } from "node:child_process";

// One option line: `  --name TYPE[:{a,b}|:TYPE in [lo - hi]][=default] [REQUIRED] (Env:NAME)`.
// An option without a TYPE is a flag.
const optionLine = new RegExp(
  String.raw`^\s+(?:-\w,)?--([a-z0-9-]+)(?: (TEXT|INT|UINT|FLOAT)` +
    String.raw`(?::(?:\{([^}]*)\}|[A-Z]+ in \[(\S+) - (\S+)\]))?(?:=(\S*))?)?` +
    String.raw`(?: REQUIRED)?(?: \(Env:([A-Z0-9_]+)\))?`,
);

const optionsOf = (text) => {
  const options = new Map();
  for (const line of text.split("\n")) {
    const m = optionLine.exec(line);
    if (!m) continue;
    const [, name, type, choices, lo, hi, fallback, env] = m;
    options.set(name, {
      name,
      type,
      env,
      fallback,
      choices: choices?.split(","),
      range: lo === undefined ? undefined : [Number(lo), Number(hi)],
    });
  }
  return options;
};

export const reliantHelp = (binary) => {
  const texts = new Map();
  const helpOf = (words) => {
    const id = words.join(" ");
    if (!texts.has(id)) {
      let text;
      try {
        // No inherited variables: the help must not depend on this shell.
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
        text = execFileSync(binary, [...words, "--help"], { encoding: "utf8", env });
      } catch (e) {
        text = `(${binary} ${id} --help failed: ${e.message})`;
      }
      texts.set(id, text);
    }
    return texts.get(id);
  };
  // `reliant WORDS` if WORDS name a subcommand that runs, else null: CLI11 answers --help after
  // an unknown word with the parent's help, whose usage line then names other words or ends in
  // SUBCOMMAND.
  const commandOf = (words) => {
    const text = helpOf(words);
    const usage = text.split("\n").find((line) => line.startsWith("Usage: ")) ?? "";
    if (!usage.endsWith(` ${words.join(" ")} [OPTIONS]`)) return null;
    return {
      id: words.join(" "),
      name: `reliant ${words.join(" ")}`,
      // The root's options (--log-format) apply to every subcommand.
      options: new Map([...optionsOf(helpOf([])), ...optionsOf(text)]),
      // Variables the help names in prose, such as the keys --llm-api-key falls back to.
      mentions: new Set(text.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g) ?? []),
    };
  };
  return { commandOf };
};

// What is wrong with VALUE for OPTION, as the binary would parse it, or null.
export const valueProblem = (option, value) => {
  const text = String(value);
  if (!option.type) {
    return /^(true|false|1|0|on|off|yes|no)$/i.test(text) ? null : "is a flag: true or false";
  }
  if ((option.type === "INT" || option.type === "UINT") && !/^-?\d+$/.test(text)) {
    return `must be an integer (${option.type})`;
  }
  if (option.type === "FLOAT" && (text.trim() === "" || !Number.isFinite(Number(text)))) {
    return "must be a number (FLOAT)";
  }
  if (option.range && (Number(text) < option.range[0] || Number(text) > option.range[1])) {
    return `must be in [${option.range.join(" - ")}]`;
  }
  if (option.choices && !option.choices.includes(text)) {
    return `must be one of ${option.choices.join(", ")}`;
  }
  return null;
};
