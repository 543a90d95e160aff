/** Admits `limit` holders at once; the others wait in arrival order. A limit of 0 admits everyone. */
export class Semaphore {
  #limit;
  #held = 0;
  #waiting = [];

  constructor(limit) {
    this.#limit = limit > 0 ? limit : Infinity;
  }

  get held() {
    return this.#held;
  }

  get waiting() {
    return this.#waiting.length;
  }

  acquire() {
    if (this.#held < this.#limit) {
      this.#held++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release() {
    const next = this.#waiting.shift();
    // The slot passes straight to the next waiter: `held` stays the same.
    if (next !== undefined) next();
    else this.#held--;
  }
}
