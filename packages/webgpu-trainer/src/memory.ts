import type { DispatchList } from './lower.js';
import { BUFFER_LABEL } from './wgsl.js';

interface Slot {
  floats: number;
  /** Set once created; a slot with a buffer can no longer grow. */
  buffer: GPUBuffer | null;
}

/**
 * The GPU buffers plan tensors live in, shared by every plan of a trainer (plans run one
 * after another on one queue, so one plan's tensors may reuse another's memory). Within a
 * plan, a tensor takes a slot from its first use to its last, so peak memory is the
 * largest set of simultaneously live tensors, not their sum.
 */
export class SlotPool {
  private readonly slots: Slot[] = [];
  private bytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBindingFloats: number,
  ) {}

  /** Places a plan's tensors (slot index per tensor id) and creates the buffers it needs. */
  place(list: DispatchList): GPUBuffer[] {
    const { tensorSizes, dispatches } = list;
    const first = new Array<number>(tensorSizes.length).fill(-1);
    const last = new Array<number>(tensorSizes.length).fill(-1);
    dispatches.forEach((dispatch, index) => {
      for (const { ref } of dispatch.bindings) {
        if (ref.kind !== 'tensor') continue;
        if (first[ref.id] === -1) first[ref.id] = index;
        last[ref.id] = index;
      }
    });
    // A kept tensor lives to the end of the plan, to be read after it.
    for (const id of list.kept.values()) last[id] = dispatches.length - 1;
    const born = dispatches.map((): number[] => []);
    const dies = dispatches.map((): number[] => []);
    tensorSizes.forEach((floats, id) => {
      if (first[id] === -1) return;
      if (floats > this.maxBindingFloats) {
        throw new Error(
          `a plan tensor of ${floats * 4} bytes exceeds this adapter's maxStorageBufferBindingSize ` +
            `(${this.maxBindingFloats * 4} bytes): use a smaller batch size`,
        );
      }
      born[first[id]!]!.push(id);
      dies[last[id]!]!.push(id);
    });
    const free = new Set(this.slots.keys());
    const slotOf = new Array<number>(tensorSizes.length).fill(-1);
    dispatches.forEach((_, index) => {
      for (const id of born[index]!) {
        const slot = this.take(free, tensorSizes[id]!);
        slotOf[id] = slot;
        free.delete(slot);
      }
      for (const id of dies[index]!) free.add(slotOf[id]!);
    });
    for (const slot of this.slots) {
      if (slot.buffer) continue;
      slot.buffer = this.device.createBuffer({
        label: `${BUFFER_LABEL} activations`,
        size: slot.floats * 4,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.bytes += slot.floats * 4;
    }
    return slotOf.map((slot) => (slot === -1 ? null : this.slots[slot]!.buffer!)) as GPUBuffer[];
  }

  /** Bytes of GPU memory the pool holds. */
  get size(): number {
    return this.bytes;
  }

  dispose(): void {
    for (const slot of this.slots) slot.buffer?.destroy();
    this.slots.length = 0;
    this.bytes = 0;
  }

  /**
   * The smallest free slot that holds `floats`; else the largest free slot that may still
   * grow, grown; else a new slot.
   */
  private take(free: ReadonlySet<number>, floats: number): number {
    let best = -1;
    let growable = -1;
    for (const index of free) {
      const slot = this.slots[index]!;
      if (slot.floats >= floats) {
        if (best === -1 || slot.floats < this.slots[best]!.floats) best = index;
      } else if (!slot.buffer) {
        if (growable === -1 || slot.floats > this.slots[growable]!.floats) growable = index;
      }
    }
    if (best !== -1) return best;
    if (growable !== -1) {
      this.slots[growable]!.floats = floats;
      return growable;
    }
    this.slots.push({ floats, buffer: null });
    return this.slots.length - 1;
  }
}
