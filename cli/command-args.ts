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
  let values: CommandValues<O>;
  const args = argv.map((a, i) =>
    bare.includes(a.slice(2)) && a.startsWith('--') && (i === argv.length - 1 || argv[i + 1]!.startsWith('-'))
      ? `${a}=`
      : a,
  );
  try {
    values = parseArgs({ args, options }).values as CommandValues<O>;
  } catch (err) {
    process.stderr.write(`grove ${command}: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if ((values as Record<string, unknown>).help === true) {
    process.stdout.write(usage);
    return 0;
  }
  return values;
}
