// portsentinel's command line: dispatch to a subcommand, turn every error into one clear line
// and a sysexits status (64 usage, 78 config, 1 other), never a stack trace.

import { pathToFileURL } from 'node:url';
import { errorMessage, SentinelError } from '../core/errors.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, parse, UsageError } from './args.js';
import { COMMANDS, type Command } from './commands.js';
import { ConfigError, type Io, processIo } from './context.js';

const EXIT_CONFIG = 78;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: portsentinel COMMAND [flags]

Port-scan detection and response (PortSentry's successor) and a Logcheck engine.

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "portsentinel COMMAND --help" for a command's flags.
Exit status: 0 ok, 1 failure, 64 bad usage, 78 invalid configuration.`;
}

function commandHelp(c: Command): string {
  return `usage: ${c.usage}\n\n${c.summary}\n${c.help ? `\n${c.help}\n` : ''}  -h, --help          this help`;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.out(mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-V') {
    io.out('portsentinel 0.1.0');
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`portsentinel: unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT_USAGE;
  }
  try {
    if (command.delegate) return await command.delegate(rest, io);
    const args = command.preprocess ? command.preprocess(rest) : rest;
    const parsed = parse(args, command.options);
    if (parsed.values.help === true) {
      io.out(commandHelp(command));
      return EXIT_OK;
    }
    return await command.run(parsed, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(
        `portsentinel ${name}: ${err.message}\nusage: ${command.usage}\n(see portsentinel ${name} --help)`,
      );
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      io.err(`portsentinel ${name}: ${err.message}`);
      return EXIT_CONFIG;
    }
    const code = err instanceof SentinelError ? ` [${err.code}]` : '';
    io.err(`portsentinel ${name}: ${errorMessage(err)}${code}`);
    if (process.env.PORTSENTINEL_DEBUG) io.err(String((err as Error).stack));
    return EXIT_FAILURE;
  }
}

// Run when executed directly (bin/portsentinel imports this module, which also counts).
const invoked = process.argv[1] ? pathToFileURL(process.argv[1]).href : '';
if (import.meta.url === invoked) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exit(code);
    },
    (err) => {
      process.stderr.write(`portsentinel: ${errorMessage(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
