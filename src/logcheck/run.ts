// One logcheck run: lock, read every source from its stored cursor, classify while streaming,
// render, deliver, and only then commit the cursors (all in one store transaction). A failed
// delivery leaves the cursors where they were, so the next run reads the same lines again: at
// most one duplicate report, nothing lost. `test` (-t) never commits.

import { basename, dirname, join } from 'node:path';
import type { LogcheckConfig } from '../config/types.js';
import { errorMessage, SentinelError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { Classifier, type ClassifyResult } from './engine.js';
import { acquireRunLock } from './lock.js';
import { type DeliveryResult, deliverReport, type OutgoingReport } from './mailer.js';
import { type RenderedReport, renderReport } from './report.js';
import { type CompileRules, loadRuleDirs, type RuleProblem } from './rule-dirs.js';
import {
  entrySource,
  type LogfileEntry,
  loadLogfiles,
  readLogSource,
  type SourceProblem,
} from './sources/index.js';

export interface LogcheckRunOptions {
  /** Effective settings (toml, logcheck.conf and flags already merged). */
  config: LogcheckConfig;
  /** Where cursors and report runs live; undefined = none (a first run, nothing remembered). */
  store: Store | undefined;
  /** Lock file; default next to the store, or none when there is no store. */
  lockPath?: string | undefined;
  /** -l FILE: read only this log. */
  logfile?: string | undefined;
  /** -L / -D: logcheck.logfiles list and directory (instead of `config.logfiles`). */
  logfilesList?: string | undefined;
  logfilesDir?: string | null | undefined;
  /** -t: read and report, commit nothing. */
  test?: boolean;
  /** -o: print the report instead of mailing it. */
  stdout?: boolean;
  /** -R: "Reboot:" in the subject. */
  reboot?: boolean;
  /** Host name in the subject (-H, or the short/FQDN name). */
  host: string;
  /** Rule compiler (default: the ERE translator). */
  compile?: CompileRules;
  /** Add portsentinel's own rules (rules/violations.d/portsentinel); false = pure logcheck. */
  bundledRules?: boolean;
  now?: () => number;
  out?: NodeJS.WritableStream;
  /** Replaces the mailer (tests). */
  deliver?: (report: OutgoingReport) => Promise<DeliveryResult>;
  /** journalctl options for the journal source (tests: `--file`). */
  journalArgs?: string[];
  journalctl?: string;
}

export interface LogcheckRunResult {
  report: RenderedReport | undefined;
  delivery: DeliveryResult | undefined;
  /** Cursors written to the store. */
  committed: boolean;
  classified: ClassifyResult;
  sourceProblems: SourceProblem[];
  ruleProblems: RuleProblem[];
}

/** The errors block line for a source problem, in logcheck's words where it has some. */
export function problemLine(p: SourceProblem): string {
  if (p.code === 'missing' || p.code === 'unreadable') return `E: File could not be read: ${p.source}`;
  return `E: ${p.source}: ${p.message}`;
}

async function entriesFor(o: LogcheckRunOptions, problems: SourceProblem[]): Promise<LogfileEntry[]> {
  if (o.logfile !== undefined) return [{ kind: 'file', path: o.logfile, origin: '-l' }];
  if (o.logfilesList !== undefined || o.logfilesDir !== undefined) {
    const listed = await loadLogfiles({
      list: o.logfilesList ?? null,
      ...(o.logfilesDir !== undefined && { dir: o.logfilesDir }),
    });
    problems.push(...listed.problems);
    return listed.entries;
  }
  const entries: LogfileEntry[] = [];
  for (const f of o.config.logfiles) {
    entries.push(
      f === 'journal' ? { kind: 'journal', origin: 'config' } : { kind: 'file', path: f, origin: 'config' },
    );
  }
  if (o.config.journal && !entries.some((e) => e.kind === 'journal')) {
    entries.push({ kind: 'journal', origin: 'config' });
  }
  return entries;
}

/** Runs logcheck once. Throws E_LOCKED, E_MAIL (cursors untouched) or E_IO. */
export async function runLogcheck(o: LogcheckRunOptions): Promise<LogcheckRunResult> {
  const now = o.now ?? Date.now;
  const startedAt = now();
  const lockPath =
    o.lockPath ??
    (o.store && o.store.path !== ':memory:' ? join(dirname(o.store.path), 'logcheck.lock') : undefined);
  const lock = lockPath !== undefined ? acquireRunLock(lockPath) : undefined;
  try {
    const cfg = o.config;
    const rules = loadRuleDirs(cfg.rulesDir, {
      level: cfg.reportLevel,
      supportCrackingIgnore: cfg.supportCrackingIgnore,
      ...(o.compile && { compile: o.compile }),
      bundled: o.bundledRules ?? false,
    });
    const classifier = new Classifier(rules.dirs, {
      sortUniq: cfg.sortUniq,
      supportCrackingIgnore: cfg.supportCrackingIgnore,
      keepExcusedViolations: cfg.keepExcusedViolations,
      trimTrailingSpace: cfg.trimTrailingSpace,
    });
    const sourceProblems: SourceProblem[] = [];
    const entries = await entriesFor(o, sourceProblems);
    const cursors: { source: string; position: string; updatedAt: number }[] = [];
    // Where first runs started (journal), stored even if delivery fails: see SourceOutcome.startPosition.
    const startCursors: { source: string; position: string; updatedAt: number }[] = [];
    for (const entry of entries) {
      const source = entrySource(entry);
      const group = entry.kind === 'journal' ? 'journal' : basename(entry.path);
      const position = o.store?.getCursor(source)?.position;
      const run = readLogSource(entry, position, {
        journal: {
          // A first run starts relative to THIS run's start (stored absolute, see startPosition).
          now: startedAt,
          extraArgs: o.journalArgs ?? cfg.journalArgs,
          ...(o.journalctl !== undefined && { journalctl: o.journalctl }),
        },
      });
      for await (const batch of run) {
        classifier.pushBatch(batch, group);
      }
      const outcome = run.outcome();
      sourceProblems.push(...outcome.problems);
      if (outcome.position !== undefined)
        cursors.push({ source, position: outcome.position, updatedAt: startedAt });
      if (outcome.startPosition !== undefined)
        startCursors.push({ source, position: outcome.startPosition, updatedAt: startedAt });
    }
    const classified = classifier.finish();
    const errors = sourceProblems.filter((p) => p.severity === 'error').map(problemLine);
    const sentinel =
      cfg.sentinelSummary && o.store
        ? o.store.detectionsBetween(
            o.store.reportRuns(1, { delivered: true })[0]?.startedAt ?? startedAt - 24 * 3600_000,
            startedAt,
          )
        : undefined;
    const page = {
      errors,
      intro: cfg.intro,
      header: rules.header,
      footer: rules.footer,
      subjects: { attack: cfg.attackSubject, security: cfg.securitySubject, system: cfg.eventsSubject },
      host: o.host,
      date: new Date(startedAt),
      reboot: o.reboot ?? false,
      addTag: cfg.addTag,
    };
    let report = renderReport({ ...page, result: classified, sentinel });
    // logcheck drops an error (a missing log) when no section has a line; we never lose one.
    if (report === undefined && errors.length > 0) {
      report = renderReport({
        ...page,
        result: { ...classified, sections: [{ category: 'system', file: undefined, lines: [] }] },
        forceSeverity: 'system',
      });
    }
    let delivery: DeliveryResult | undefined;
    if (report !== undefined) {
      try {
        if (o.deliver) delivery = await o.deliver(report);
        else {
          const mail = o.stdout ? { ...cfg.mail, transport: 'stdout' as const } : cfg.mail;
          delivery = await deliverReport(report, mail, { host: o.host, ...(o.out && { stdout: o.out }) });
        }
      } catch (err) {
        if (!o.test && o.store && !o.store.readonly) {
          // Not delivered: no read position moves, but a first run's start point is kept, so the
          // retry reads from the same absolute start (it records where reading began, skips nothing).
          if (startCursors.length > 0) o.store.setCursors(startCursors);
          o.store.recordReportRun({
            startedAt,
            finishedAt: now(),
            lines: classified.linesReported,
            delivered: false,
            error: errorMessage(err),
          });
        }
        throw err instanceof SentinelError
          ? err
          : new SentinelError('E_MAIL', `delivering the report failed: ${errorMessage(err)}`, { cause: err });
      }
    }
    let committed = false;
    if (!o.test && o.store && !o.store.readonly) {
      // Delivered (or nothing worth sending): the lines are accounted for.
      o.store.setCursors(cursors);
      o.store.recordReportRun({
        startedAt,
        finishedAt: now(),
        lines: classified.linesReported,
        delivered: report !== undefined,
      });
      committed = true;
    }
    return { report, delivery, committed, classified, sourceProblems, ruleProblems: rules.problems };
  } finally {
    lock?.release();
  }
}
