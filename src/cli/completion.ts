import { Argument, type Command } from 'commander';

/*
 * `drover completion bash|zsh|fish`: a completion script written from the program itself,
 * by walking its commands and options as commander's help sees them, so a command added
 * to the program is completed without a list kept by hand.
 *
 * Every script works the same way: the words typed so far that name subcommands make a
 * path ("task list"); options and the values of options that take one are stepped over;
 * the path chooses what is offered (its subcommands, its options, the choices of its
 * arguments, or the choices of the option just typed).
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Word {
  word: string;
  description: string;
}

interface Node {
  path: string;
  words: Word[];
  /** Option flag → its choices, for options that take one of a few values. */
  choices: Map<string, readonly string[]>;
}

interface Tree {
  nodes: Node[];
  /**
   * `path:flag` for each flag that takes a value under that path, so the word after it is
   * not read as a subcommand (`-f` takes a file in `submit` but not in `logs`).
   */
  valueFlags: string[];
}

const firstLine = (text: string): string => text.split('\n')[0]!.trim();

function walk(program: Command): Tree {
  const nodes: Node[] = [];
  const valueFlags: string[] = [];
  const visit = (command: Command, path: string): void => {
    const help = command.createHelp();
    const words: Word[] = [];
    const choices = new Map<string, readonly string[]>();
    const subcommands = help.visibleCommands(command);
    for (const sub of subcommands) {
      const description = firstLine(help.subcommandDescription(sub));
      for (const name of [sub.name(), ...sub.aliases()]) words.push({ word: name, description });
    }
    for (const argument of command.registeredArguments) {
      for (const choice of argument.argChoices ?? []) {
        words.push({ word: choice, description: argument.description || argument.name() });
      }
    }
    for (const option of help.visibleOptions(command)) {
      const description = firstLine(option.description);
      for (const flag of [option.long, option.short]) {
        if (!flag) continue;
        words.push({ word: flag, description });
        if (option.required) valueFlags.push(`${path}:${flag}`);
        if (option.argChoices) choices.set(flag, option.argChoices);
      }
    }
    nodes.push({ path, words, choices });
    for (const sub of subcommands) {
      if (sub.name() === 'help' && sub.commands.length === 0 && !sub.options.length) {
        // commander's own `help [command]` completes the program's commands.
        nodes.push({
          path: `${path ? `${path} ` : ''}help`,
          words: subcommands
            .filter((s) => s !== sub)
            .map((s) => ({
              word: s.name(),
              description: firstLine(help.subcommandDescription(s)),
            })),
          choices: new Map(),
        });
        continue;
      }
      visit(sub, path ? `${path} ${sub.name()}` : sub.name());
    }
  };
  visit(program, '');
  return { nodes, valueFlags };
}

/** A word safe inside single quotes in bash, zsh and fish. */
const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
const fishQuote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A case pattern for shells that have `case`; `''` never matches a `path:flag` word. */
const casePattern = (words: readonly string[]): string => words.map(quote).join('|') || "''";

function bash(name: string, tree: Tree): string {
  const fn = `_${name.replace(/\W/g, '_')}`;
  const valueFlags = casePattern(tree.valueFlags);
  const paths = tree.nodes.filter((n) => n.path).map((n) => quote(n.path));
  const cases = tree.nodes
    .map((n) => `    ${quote(n.path)}) words=${quote(n.words.map((w) => w.word).join(' '))} ;;`)
    .join('\n');
  const choiceCases = tree.nodes
    .flatMap((n) =>
      [...n.choices].map(
        ([flag, values]) =>
          `    ${quote(`${n.path}:${flag}`)}) words=${quote(values.join(' '))} ;;`,
      ),
    )
    .join('\n');
  return `# bash completion for ${name}, written by \`${name} completion bash\`.
# Load it with: source <(${name} completion bash)
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmdpath="" next w i words=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$cmdpath:$w" in
      ${valueFlags}) ((i++)); continue ;;
    esac
    case "$w" in -*) continue ;; esac
    next="\${cmdpath:+$cmdpath }$w"
    case "$next" in
      ${paths.join('|') || "''"}) cmdpath="$next" ;;
    esac
  done
  case "$cmdpath:$prev" in
${choiceCases || "    '') ;;"}
    *)
      case "$cmdpath:$prev" in
        ${valueFlags}) COMPREPLY=(); return 0 ;;
      esac
      case "$cmdpath" in
${cases}
      esac ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${name}
`;
}

function zsh(name: string, tree: Tree): string {
  const fn = `_${name.replace(/\W/g, '_')}`;
  const valueFlags = casePattern(tree.valueFlags);
  const entry = (w: Word) => quote(`${w.word.replace(/:/g, '\\:')}:${w.description}`);
  const cases = tree.nodes
    .map((n) => `    ${quote(n.path)}) specs=(${n.words.map(entry).join(' ')}) ;;`)
    .join('\n');
  const choiceCases = tree.nodes
    .flatMap((n) =>
      [...n.choices].map(
        ([flag, values]) =>
          `    ${quote(`${n.path}:${flag}`)}) compadd -- ${values.map(quote).join(' ')}; return ;;`,
      ),
    )
    .join('\n');
  const paths = tree.nodes.filter((n) => n.path).map((n) => quote(n.path));
  return `#compdef ${name}
# zsh completion for ${name}, written by \`${name} completion zsh\`.
# Load it with: source <(${name} completion zsh)   (after compinit)
${fn}() {
  local cmdpath="" next w i prev="\${words[CURRENT-1]}"
  local -a specs
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    case "$cmdpath:$w" in
      ${valueFlags}) ((i++)); continue ;;
    esac
    case "$w" in -*) continue ;; esac
    next="\${cmdpath:+$cmdpath }$w"
    case "$next" in
      ${paths.join('|') || "''"}) cmdpath="$next" ;;
    esac
  done
  case "$cmdpath:$prev" in
${choiceCases || "    '') ;;"}
  esac
  case "$cmdpath:$prev" in
    ${valueFlags}) _default; return ;;
  esac
  case "$cmdpath" in
${cases}
  esac
  _describe -t commands '${name}' specs || _default
}
compdef ${fn} ${name}
`;
}

function fish(name: string, tree: Tree): string {
  const fn = `__${name.replace(/\W/g, '_')}_path`;
  const at = `__${name.replace(/\W/g, '_')}_at`;
  const paths = tree.nodes.filter((n) => n.path).map((n) => fishQuote(n.path));
  const lines: string[] = [];
  for (const n of tree.nodes) {
    const condition = `${at} ${fishQuote(n.path)}`;
    for (const w of n.words) {
      lines.push(
        `complete -c ${name} -f -n ${fishQuote(condition)} -a ${fishQuote(w.word)} -d ${fishQuote(w.description)}`,
      );
    }
    for (const [flag, values] of n.choices) {
      const after = `${condition}; and test (commandline -opc)[-1] = ${fishQuote(flag)}`;
      lines.push(`complete -c ${name} -f -n ${fishQuote(after)} -a ${fishQuote(values.join(' '))}`);
    }
  }
  return `# fish completion for ${name}, written by \`${name} completion fish\`.
# Load it with: ${name} completion fish | source
function ${fn}
  set -l words (commandline -opc)
  set -l cmdpath ''
  set -l skip 0
  for w in $words[2..-1]
    if test $skip = 1
      set skip 0
      continue
    end
    if contains -- "$cmdpath:$w" ${tree.valueFlags.map(fishQuote).join(' ')}
      set skip 1
      continue
    end
    switch $w
      case '-*'
        continue
    end
    set -l next $w
    if test -n "$cmdpath"
      set next "$cmdpath $w"
    end
    if contains -- $next ${paths.join(' ')}
      set cmdpath $next
    end
  end
  echo $cmdpath
end
function ${at}
  set -l p (${fn})
  test "$p" = "$argv[1]"
end
complete -c ${name} -e
${lines.join('\n')}
`;
}

/** The completion script for `shell` of the program `program` belongs to. */
export function completionScript(program: Command, shell: Shell): string {
  const tree = walk(program);
  const name = program.name();
  if (shell === 'bash') return bash(name, tree);
  if (shell === 'zsh') return zsh(name, tree);
  return fish(name, tree);
}

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .summary('print a shell completion script')
    .description(
      'Print a completion script for bash, zsh or fish, made from the commands themselves.',
    )
    .addHelpText(
      'after',
      '\nLoad it with\n' +
        '  bash: source <(drover completion bash)   or save it as /etc/bash_completion.d/drover\n' +
        '  zsh:  source <(drover completion zsh)    after compinit\n' +
        '  fish: drover completion fish | source    or save it as ~/.config/fish/completions/drover.fish',
    )
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action((shell: Shell) => {
      process.stdout.write(completionScript(program, shell));
    });
}
