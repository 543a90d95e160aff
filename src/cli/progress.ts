import type { Io } from './command.js';

/**
 * Progress of long work on stderr: a bar redrawn in place on a terminal, a line per 10% otherwise
 * (so logs stay readable).
 */
export function progressBar(
  io: Io,
  label: string,
): { update: (done: number, total: number) => void; done: () => void } {
  let lastDecile = -1;
  let drawn = false;
  return {
    update(done, total) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      if (io.isTty) {
        const width = 30;
        const filled = Math.round(fraction * width);
        io.err(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
        drawn = true;
        return;
      }
      const decile = Math.floor(fraction * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        io.err(`${label}: ${done}/${total} runs\n`);
      }
    },
    done() {
      if (drawn) io.err('\n');
      drawn = false;
    },
  };
}
