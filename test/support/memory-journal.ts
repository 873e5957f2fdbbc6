import { fromJournalRecord, type Journal, type JournalEntry, type JournalRecord } from '../../src/actors/journal.js';

/** A journal in memory; `gate` holds appends until opened, `failing` rejects them. */
export class MemoryJournal implements Journal {
  readonly records: JournalRecord[] = [];
  failing = false;
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => undefined;

  close(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }
  open(): void {
    this.openGate();
  }
  async append(entries: readonly JournalEntry[]): Promise<number[]> {
    await this.gate;
    if (this.failing) throw new Error('journal down');
    return entries.map((entry) => {
      const record = { ...entry, sequence: this.records.length + 1, atMs: Date.now() };
      this.records.push(record);
      return record.sequence;
    });
  }
  readAfter(sequence: number, options: { readonly stream?: string; readonly limit?: number } = {}): Promise<JournalRecord[]> {
    if (this.failing) return Promise.reject(new Error('journal down'));
    return Promise.resolve(
      this.records.filter((r) => r.sequence > sequence && (options.stream === undefined || r.stream === options.stream)).slice(0, options.limit ?? 10_000),
    );
  }
  types(clientOrderId: string): string[] {
    return this.records.filter((r) => fromJournalRecord(r)?.order.clientOrderId === clientOrderId).map((r) => r.type);
  }
}
