// Flag parsing shared by the subcommands: node:util parseArgs, plus the two answers every command
// gives the same way: `--help` prints the usage (exit 0), a bad flag prints the error and the
// usage (exit 2). A command gets its typed values, or the exit code to return. A flag listed in
// `bare` may also be given without its value (`--consul` alone: the value is '', meaning "from the
// environment"), which parseArgs itself does not allow for string options.
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
export type CommandValues<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O }>
>['values'];

export function parseCommandArgs<const O extends Options>(
  command: string,
  argv: string[],
  options: O,
  usage: string,
  bare: readonly string[] = [],
): CommandValues<O> | number {
  const parsed = parse(command, argv, options, usage, bare, false);
  return typeof parsed === 'number' ? parsed : parsed.values;
}

/** As parseCommandArgs, for a command that also takes positional words (`grove split MODEL 1=90`). */
export function parseCommandLine<const O extends Options>(
  command: string,
  argv: string[],
  options: O,
  usage: string,
): { values: CommandValues<O>; positionals: string[] } | number {
  return parse(command, argv, options, usage, [], true);
}

function parse<const O extends Options>(
  command: string,
  argv: string[],
  options: O,
  usage: string,
  bare: readonly string[],
  allowPositionals: boolean,
): { values: CommandValues<O>; positionals: string[] } | number {
  let parsed: { values: CommandValues<O>; positionals: string[] };
  const args = argv.map((a, i) =>
    bare.includes(a.slice(2)) && a.startsWith('--') && (i === argv.length - 1 || argv[i + 1]!.startsWith('-'))
      ? `${a}=`
      : a,
  );
  try {
    const r = parseArgs({ args, options, allowPositionals, strict: true });
    parsed = { values: r.values as CommandValues<O>, positionals: r.positionals };
  } catch (err) {
    process.stderr.write(`grove ${command}: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if ((parsed.values as Record<string, unknown>).help === true) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}
