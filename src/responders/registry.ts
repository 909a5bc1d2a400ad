// Builds the configured backends, in config order. `auto` is an ordered fallback on a typed
// UnsupportedError: nftables, else iptables, else blackhole routes; each refusal is kept as a
// note so `status` can say why a backend was not chosen. Dry-run replaces every backend.

import type { BackendName, RespondConfig, ResponseLevel } from '../config/types.js';
import { errorMessage, UnsupportedError } from '../core/errors.js';
import { CommandResponder } from './command.js';
import type { Responder, ResponderContext } from './contract.js';
import { DryRunResponder } from './dry-run.js';
import { HostsDenyResponder } from './hosts-deny.js';
import { IptablesResponder } from './iptables.js';
import { NftablesResponder } from './nftables.js';
import { RouteResponder } from './route.js';

/** Name of the KILL_RUN_CMD responder (runs at levels `block` and `command`). */
export const COMMAND_RESPONDER = 'command';
/** Name of the blocker built from backend "command" (a KILL_ROUTE with no built-in equivalent). */
export const ROUTE_COMMAND_RESPONDER = 'route-command';

export const AUTO_ORDER = ['nftables', 'iptables', 'route'] as const;

type Concrete = Exclude<BackendName, 'auto'>;

/** Constructs one backend (not yet initialised); undefined with a note when its config is empty. */
export function buildBackend(
  name: Concrete,
  config: RespondConfig,
  ctx: ResponderContext,
): { responder?: Responder; note?: string } {
  switch (name) {
    case 'nftables':
      return {
        responder: new NftablesResponder(ctx, {
          table: config.nftables.table,
          family: config.nftables.family,
        }),
      };
    case 'iptables':
      return { responder: new IptablesResponder(ctx, config.iptables) };
    case 'route':
      return { responder: new RouteResponder(ctx) };
    case 'hosts-deny': {
      const line =
        config.hostsDeny.line && config.hostsDeny.line !== ''
          ? config.hostsDeny.line
          : `${config.hostsDeny.service}: $TARGET$`;
      return { responder: new HostsDenyResponder({ path: config.hostsDeny.path, line }) };
    }
    case 'command': {
      const argv = config.routeCommand ?? [];
      if (argv.length === 0)
        return { note: 'backend "command" listed but respond.route_command is empty: skipped' };
      const releaseArgv = config.command.length === 0 ? config.releaseCommand : [];
      return {
        responder: new CommandResponder(ctx, {
          name: ROUTE_COMMAND_RESPONDER,
          argv,
          releaseArgv,
          timeoutMs: config.commandTimeout,
        }),
      };
    }
    case 'dry-run':
      return { responder: new DryRunResponder(ctx.now) };
  }
}

async function tryInit(responder: Responder): Promise<string | undefined> {
  try {
    await responder.init();
    return undefined;
  } catch (err) {
    await responder.close().catch(() => undefined);
    return err instanceof UnsupportedError ? err.message : `${responder.name}: ${errorMessage(err)}`;
  }
}

/**
 * The initialised backends for `config`, in config order, plus notes (why a backend was skipped,
 * which one `auto` chose). The KILL_RUN_CMD responder (`respond.command`) comes last; `orderFor`
 * moves it first when command_first is set.
 */
export async function createResponders(
  config: RespondConfig,
  ctx: ResponderContext,
): Promise<{ responders: Responder[]; notes: string[] }> {
  const notes: string[] = [];
  if (config.dryRun) {
    notes.push('dry run: no backend is touched; would-be actions are logged');
    return { responders: [new DryRunResponder(ctx.now)], notes };
  }
  const responders: Responder[] = [];
  const seen = new Set<string>();
  const add = (r: Responder) => {
    if (seen.has(r.name)) {
      notes.push(`backend "${r.name}" listed twice: used once`);
      void r.close();
      return;
    }
    seen.add(r.name);
    responders.push(r);
  };
  for (const name of config.backends) {
    if (name === 'auto') {
      const refusals: string[] = [];
      let chosen: Responder | undefined;
      for (const candidate of AUTO_ORDER) {
        if (seen.has(candidate)) continue;
        const { responder } = buildBackend(candidate, config, ctx);
        if (!responder) continue;
        const why = await tryInit(responder);
        if (why === undefined) {
          chosen = responder;
          break;
        }
        refusals.push(why);
      }
      if (chosen) {
        notes.push(`auto: using ${chosen.name}${refusals.length > 0 ? ` (${refusals.join('; ')})` : ''}`);
        add(chosen);
      } else {
        notes.push(`auto: no blocking backend works here (${refusals.join('; ')})`);
      }
      continue;
    }
    const built = buildBackend(name, config, ctx);
    if (built.note) notes.push(built.note);
    if (!built.responder) continue;
    const why = await tryInit(built.responder);
    if (why === undefined) add(built.responder);
    else notes.push(`backend "${name}" unavailable: ${why}`);
  }
  if (config.command.length > 0) {
    const cmd = new CommandResponder(ctx, {
      name: COMMAND_RESPONDER,
      argv: config.command,
      releaseArgv: config.releaseCommand,
      timeoutMs: config.commandTimeout,
    });
    await cmd.init();
    responders.push(cmd);
  }
  return { responders, notes };
}

/**
 * Which responders run for a ban at `level`, in order (PortSentry's BLOCK_* 0/1/2 and
 * KILL_RUN_CMD_FIRST): alert → none; command → only the KILL_RUN_CMD responder; block →
 * all, with the command before the blockers when `commandFirst`, after them otherwise.
 */
export function orderFor(
  level: ResponseLevel,
  commandFirst: boolean,
  responders: readonly Responder[],
): Responder[] {
  const command = responders.filter((r) => r.name === COMMAND_RESPONDER);
  const others = responders.filter((r) => r.name !== COMMAND_RESPONDER);
  switch (level) {
    case 'alert':
      return [];
    case 'command':
      return command;
    case 'block':
      return commandFirst ? [...command, ...others] : [...others, ...command];
  }
}
