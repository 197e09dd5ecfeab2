#!/usr/bin/env bash
# The spelling of the command line, over every flag of every command as `--help` lists them:
# each flag in both --snake_case and --kebab-case (and both accepted: the effective config is
# the same either way), one meaning per flag name across commands (one kind of value, one long
# name per short name, and a flag whose help differs between commands must be one listed below
# with its one meaning), and each command's help without the options it does not read.
# Called by ctest as: bash test_flags.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"

rc=0
"$PY" - "$NL" >flags.tap 2>flags.err <<'EOF' || rc=$?
import collections, re, subprocess, sys

NL = sys.argv[1]
# Flags whose help text differs between commands, and the one meaning they have in all of them.
# A new flag of that kind must be added here (or renamed): that is the review of "one meaning".
MEANINGS = {
    "model": "the checkpoint the command reads",
    "out": "the file the command writes",
    "input": "the text the command reads",
    "json": "print the result as JSON on stdout",
    "seed": "the seed of the command's random draws",
}
# Options a command must not list: it does not read them.
NOT_READ = {
    "train": ["input", "tokenizer_type", "valid_fraction", "adamw_steps", "max_tokens", "beam",
              "sanity_steps", "placements"],
    "sweep": ["input", "tokenizer_type", "valid_fraction", "adamw_steps", "beam"],
    "prepare": ["data", "lr", "n_layers", "progress", "steps"],
    "prepare-parallel": ["data", "lr", "input"],
    "init": ["lr", "steps", "warmup", "data", "threads"],
    "grad": ["n_layers", "steps", "warmup", "schedule", "data", "placement"],
    "generate": ["lr", "steps", "n_layers", "beam"],
    "translate": ["lr", "steps", "n_layers", "max_tokens", "seed"],
    "sanity-check": ["eval_every", "save_every", "out_dir", "placements"],  # steps: the run predicted
}
results = []

def check(ok, desc, *diag):
    results.append((ok, desc, diag))

def help_of(args):
    r = subprocess.run([NL] + args + ["--help"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"normlab {' '.join(args)} --help: exit {r.returncode}: {r.stderr}")
    return r.stdout

def options_of(text):
    """[(names, kind, default, help, required)] of a CLI11 help text: "  NAMES [TYPE[=DEFAULT]]
    [REQUIRED]" in the first 30 columns and the help from column 30, or, when that part is
    longer, the help on the next line."""
    opts, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if not re.match(r"^  -", line):
            continue
        if len(line) > 30 and line[29] == " " and line[30] != " ":
            head, desc = line[:30].strip(), line[30:].strip()
        else:
            head, desc = line.strip(), (lines[i + 1].strip() if i + 1 < len(lines) else "")
        names, _, rest = head.partition(" ")
        # CLI11's notes after the value: REQUIRED, "Excludes: --x", "Needs: --y"
        rest = re.sub(r"\s*(Excludes|Needs):.*$", "", rest)
        required = rest.endswith("REQUIRED")
        if required:
            rest = rest[: -len("REQUIRED")].strip()
        kind, default = None, None
        if rest:  # the value: TEXT, INT, [BOOL], {a,b}, TEXT:{a,b}, KEY=V1,..., then =DEFAULT
            kind = rest.split(" ")[0].split("=")[0]
            default = rest.split("=", 1)[1] if "=" in rest and kind != "KEY" else None
        opts.append((names.split(","), kind, default, desc, required))
    return opts

top = help_of([])
commands = []
in_subs = False
for line in top.splitlines():
    if re.match(r"^(Subcommands|SUBCOMMANDS):", line):
        in_subs = True
        continue
    m = re.match(r"^  (\S+)\s", line)
    if in_subs and m:
        commands.append(m.group(1))
check(len(commands) >= 12, f"normlab --help lists the commands ({len(commands)})", top)

kinds = collections.defaultdict(dict)     # long name -> {command: kind}
helps = collections.defaultdict(dict)     # long name -> {command: help}
shorts = collections.defaultdict(dict)    # short name -> {command: long name}
per_command = {}
for cmd in commands:
    opts = options_of(help_of([cmd]))
    per_command[cmd] = opts
    for names, kind, default, desc, required in opts:
        longs = [n[2:] for n in names if n.startswith("--")]
        if not longs or longs == ["help"]:
            continue
        snake = longs[0].replace("-", "_")
        for want in {snake, snake.replace("_", "-")}:
            check(want in longs, f"{cmd} --{snake}: spelled --{want} too", f"names: {names}")
        kinds[snake][cmd] = kind or "(no value)"
        helps[snake][cmd] = desc
        for n in names:
            if re.match(r"^-[^-]", n):
                shorts[n][cmd] = snake

for name, by_cmd in sorted(kinds.items()):
    check(len(set(by_cmd.values())) == 1, f"--{name}: one kind of value in every command",
          f"{by_cmd}")
    if len(set(helps[name].values())) > 1:
        check(name in MEANINGS, f"--{name}: one meaning ({MEANINGS.get(name, 'differs')})",
              *[f"{c}: {h}" for c, h in helps[name].items()])
for short, by_cmd in sorted(shorts.items()):
    check(len(set(by_cmd.values())) == 1, f"{short}: the same flag in every command", f"{by_cmd}")

for cmd, absent in NOT_READ.items():
    listed = {n[2:].replace("-", "_") for names, *_ in per_command.get(cmd, []) for n in names}
    extra = sorted(set(absent) & listed)
    check(cmd in per_command and not extra, f"{cmd} --help lists only what {cmd} reads",
          f"listed but not read: {extra}")

# Both spellings accepted: every option with a default, given at that default once in snake_case
# and once in kebab-case, gives the same effective config (--dump_config).
def dump(cmd, opts, kebab):
    args = [cmd]
    for names, kind, default, desc, required in opts:
        longs = [n[2:] for n in names if n.startswith("--")]
        if not longs or longs[0] in ("help", "config", "dump_config", "dump-config"):
            continue
        if kind is None or kind.startswith("KEY"):
            continue
        value = default if default is not None else ("x" if required else None)
        if value is None:
            continue
        name = longs[0].replace("_", "-") if kebab else longs[0].replace("-", "_")
        args += [f"--{name}", value]
    r = subprocess.run([NL] + args + ["--dump_config"], capture_output=True, text=True)
    return r, args

for cmd, opts in per_command.items():
    if not any("--dump_config" in names for names, *_ in opts):
        continue
    (snake, a1), (kebab, a2) = dump(cmd, opts, False), dump(cmd, opts, True)
    check(snake.returncode == 0 and kebab.returncode == 0 and snake.stdout == kebab.stdout
          and snake.stdout.strip() != "",
          f"{cmd}: every option accepted in both spellings, the same config ({len(a1) // 2} flags)",
          f"snake rc {snake.returncode}: {snake.stderr.strip()}",
          f"kebab rc {kebab.returncode}: {kebab.stderr.strip()}", " ".join(a2))

for ok_, desc, diag in results:
    print(("ok - " if ok_ else "not ok - ") + desc)
    if not ok_:
        for d in diag:
            for line in str(d).splitlines()[:20]:
                print("#   " + line)
EOF
while IFS= read -r line; do
  case "$line" in
    "ok - "*) ok "${line#ok - }" ;;
    "not ok - "*) desc=${line#not ok - } ;  not_ok "$desc" ;;
    "#"*) echo "$line" ;;
  esac
done <flags.tap
[ $rc -eq 0 ] || not_ok "every command's --help read" "$(cat flags.err)"

# A renamed flag says its new name; the old config key still loads.
rc=0
"$NL" prepare --tokenizer unigram --out_dir p >/dev/null 2>err.txt || rc=$?
check_that "prepare --tokenizer (now --tokenizer_type): one line naming the new flag" \
  "[ $rc -eq 1 ] && [ \"\$(cat err.txt)\" = 'normlab: error: --tokenizer: renamed; use --tokenizer_type' ]"
printf 'tokenizer: unigram\n' >old.yaml
"$NL" prepare --config old.yaml --dump_config >old.dump 2>&1 || true
check_that "a config file with the former key 'tokenizer' still loads" \
  "grep -qx 'tokenizer_type: unigram' old.dump"

finish
