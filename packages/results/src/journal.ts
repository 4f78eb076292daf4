import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import type { EpochRecord, RoundRecord, TargetRecord } from './record.js';

/**
 * What a run reports while it runs, one event per finished epoch, selection round and
 * target. Events drive the progress display and live tracking, and are appended to the
 * run's journal so that an interrupted run leaves a readable trace.
 */
export type RunEvent =
  | {
      type: 'epoch';
      /** Which network was training: the selector (θp, proxy or θ) or the target. */
      phase: 'selector' | 'target';
      /** Size of the labelled set it trains on; names the round or the milestone. */
      labelled: number;
      /** Epochs this training phase will run, for progress and ETA. */
      totalEpochs: number;
      epoch: EpochRecord;
    }
  | { type: 'round'; round: Omit<RoundRecord, 'epochs'> }
  | { type: 'target'; target: Omit<TargetRecord, 'epochs'> };

/** The first line of every journal: which attempt wrote it. */
export interface JournalHeader {
  type: 'start';
  id: string;
  pid: number;
  hostname: string;
  at: string;
}

export type JournalEntry = (RunEvent & { at: string }) | JournalHeader;

/**
 * An append-only JSON-lines file per run attempt. Starting a journal replaces the file of
 * any earlier, interrupted attempt (what that attempt finished is resumed from the run's
 * checkpoint and the selection phases, not from the journal). Lines are
 * not fsynced one by one: the journal is a trace, and a run whose journal lost its tail
 * in a power cut is restarted anyway.
 */
export class RunJournal {
  private constructor(
    readonly file: string,
    private readonly fd: number,
  ) {}

  static start(file: string, id: string): RunJournal {
    const journal = new RunJournal(file, openSync(file, 'w'));
    const header: JournalHeader = {
      type: 'start',
      id,
      pid: process.pid,
      hostname: os.hostname(),
      at: new Date().toISOString(),
    };
    journal.writeLine(header);
    return journal;
  }

  append(event: RunEvent): void {
    this.writeLine({ at: new Date().toISOString(), ...event });
  }

  close(): void {
    closeSync(this.fd);
  }

  private writeLine(entry: JournalEntry): void {
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }
}

/** The entries of a journal; a torn last line (the writer was killed mid-write) is dropped. */
export function readJournal(file: string): JournalEntry[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const entries: JournalEntry[] = [];
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch (error) {
      if (index === lines.length - 1) break;
      throw new Error(`${file}:${index + 1}: not a journal line (${(error as Error).message})`);
    }
  }
  return entries;
}
