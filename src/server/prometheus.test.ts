import { describe, expect, it } from 'vitest';
import { escapeLabel, renderFamilies } from './prometheus.js';

describe('Prometheus text format', () => {
  it('escapes label values and writes HELP, TYPE and samples', () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const text = renderFamilies([
      {
        name: 'augur_x_total',
        help: 'Things.\nMore.',
        type: 'counter',
        samples: [{ labels: { service: 'a"b', revision: 'v1' }, value: 3 }, { value: Infinity }],
      },
    ]);
    expect(text).toBe(
      '# HELP augur_x_total Things.\\nMore.\n# TYPE augur_x_total counter\n' +
        'augur_x_total{service="a\\"b",revision="v1"} 3\naugur_x_total +Inf\n',
    );
  });
});
