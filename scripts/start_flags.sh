# Sourced by compile.sh and dev.sh: fills the array FLAGS with the permission and unstable flags
# of the `start` task in deno.json (every word starting with --), the one source of truth for
# how the product runs, as `deno task start` and as the compiled binary. Run from the repo root.
mapfile -t FLAGS < <(deno eval --quiet '
  const task = JSON.parse(Deno.readTextFileSync("deno.json")).tasks?.start ?? "";
  for (const word of task.split(/\s+/)) if (word.startsWith("--")) console.log(word);
')
