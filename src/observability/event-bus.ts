import type { DomainEvent, DomainEventType } from '../model/index.js';

type Listener<E> = (event: E) => void;

/**
 * In-process publish/subscribe for domain events: actors publish what happened, the
 * gateway, metrics and the terminal status listen. Delivery is synchronous and in order;
 * a listener that throws is reported to `onListenerError` and never breaks the publisher.
 */
export class EventBus {
  private readonly byType = new Map<DomainEventType, Set<Listener<DomainEvent>>>();
  private readonly all = new Set<Listener<DomainEvent>>();

  constructor(private readonly onListenerError: (error: unknown, event: DomainEvent) => void = () => undefined) {}

  /** Subscribes to one event type; returns the unsubscribe function. */
  on<T extends DomainEventType>(type: T, listener: Listener<Extract<DomainEvent, { type: T }>>): () => void {
    let set = this.byType.get(type);
    if (!set) {
      set = new Set();
      this.byType.set(type, set);
    }
    const erased = listener as Listener<DomainEvent>;
    set.add(erased);
    return () => set.delete(erased);
  }

  /** Subscribes to every event. */
  onAny(listener: Listener<DomainEvent>): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }

  /** True when someone listens to the type (lets hot paths skip building events). */
  hasListeners(type: DomainEventType): boolean {
    return this.all.size > 0 || (this.byType.get(type)?.size ?? 0) > 0;
  }

  publish(event: DomainEvent): void {
    const set = this.byType.get(event.type);
    if (set) for (const listener of set) this.deliver(listener, event);
    for (const listener of this.all) this.deliver(listener, event);
  }

  private deliver(listener: Listener<DomainEvent>, event: DomainEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onListenerError(error, event);
    }
  }
}
