import { spawnSync } from 'node:child_process';
import { repoRoot } from '@inner-talk/testkit';

function cli(args: string[], input = '') {
  const r = spawnSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/cli.ts', ...args], {
    cwd: repoRoot(),
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('operator CLI', () => {
  it('classifies one message per line with the phrase list', () => {
    const { code, out } = cli(['safety', 'classify'], "I want to kill myself\nI'm dying to see the movie\nбольше не могу\n");
    expect(code).toBe(0);
    expect(out.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { level: 'high', sources: ['phrases'] },
      { level: 'none', sources: [] },
      { level: 'low', sources: ['phrases'] },
    ]);
  });

  it('scores PHQ-9 and flags item 9', () => {
    const { code, out } = cli(['assess', 'score', 'phq9', '1,1,1,1,1,1,1,1,1']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ total: 9, band: 'mild', item9_flag: true });
  });

  it('scores GAD-7', () => {
    expect(JSON.parse(cli(['assess', 'score', 'gad7', '3,3,3,3,3,0,0']).out)).toEqual({ total: 15, band: 'severe', item9_flag: false });
  });

  it('rejects bad input with exit code 2 and a reason', () => {
    const bad = cli(['assess', 'score', 'phq9', '1,2']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('expected 9 answers, got 2');
    expect(cli(['assess', 'score', 'bdi', '1']).code).toBe(2);
    expect(cli(['nonsense']).err).toContain('usage:');
  });
});
