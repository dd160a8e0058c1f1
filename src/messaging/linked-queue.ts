/**
 * A FIFO queue with O(1) removal from the middle: a message whose own timeout fires while it
 * waits leaves the queue at once, so expired messages never hold places of the bounded
 * outbound queue. The bound itself is the owner's (it checks `size` before `push`).
 */
import { assert } from '../util/assert.js';

export interface QueueNode<T> {
  readonly value: T;
  prev: QueueNode<T> | null;
  next: QueueNode<T> | null;
  queued: boolean;
}

export class LinkedQueue<T> {
  private head: QueueNode<T> | null = null;
  private tail: QueueNode<T> | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(value: T): QueueNode<T> {
    const node: QueueNode<T> = { value, prev: this.tail, next: null, queued: true };
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.count++;
    return node;
  }

  peek(): T | undefined {
    return this.head?.value;
  }

  shift(): T | undefined {
    const node = this.head;
    if (node === null) return undefined;
    this.remove(node);
    return node.value;
  }

  /** Takes `node` out if it is still queued; false if it already left. */
  remove(node: QueueNode<T>): boolean {
    if (!node.queued) return false;
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = null;
    node.next = null;
    node.queued = false;
    this.count--;
    assert(this.count >= 0, 'queue size never goes negative');
    return true;
  }

  /** Empties the queue and returns what it held, oldest first. */
  drain(): T[] {
    const values: T[] = [];
    for (let value = this.shift(); value !== undefined; value = this.shift()) values.push(value);
    return values;
  }
}
