import { GAD7, InvalidAnswersError, nextRetestAt, PHQ9, scoreAssessment } from './index';

/** Answers of `n` items summing to `total` (fills items from the first, each up to 3), with item 9 kept at `item9`. */
function answersFor(n: number, total: number, item9 = 0): number[] {
  const answers = new Array<number>(n).fill(0);
  let left = total;
  if (n === 9) {
    answers[8] = item9;
    left -= item9;
  }
  for (let i = 0; i < n && left > 0; i++) {
    if (n === 9 && i === 8) continue;
    answers[i] = Math.min(3, left);
    left -= answers[i]!;
  }
  if (left !== 0) throw new Error(`cannot reach ${total}`);
  return answers;
}

describe('PHQ-9 scoring', () => {
  it.each([
    [0, 'minimal'], [4, 'minimal'],
    [5, 'mild'], [9, 'mild'],
    [10, 'moderate'], [14, 'moderate'],
    [15, 'moderately_severe'], [19, 'moderately_severe'],
    [20, 'severe'], [24, 'severe'],
  ])('total %i is %s', (total, band) => {
    const score = scoreAssessment('phq9', answersFor(9, total));
    expect(score).toMatchObject({ total, band, item9Flag: false, suggestProfessional: total >= 10 });
  });

  it('scores the maximum 27 as severe', () => {
    expect(scoreAssessment('phq9', new Array(9).fill(3))).toMatchObject({ total: 27, band: 'severe', item9Flag: true });
  });

  it('flags item 9 above 0 whatever the total', () => {
    expect(scoreAssessment('phq9', answersFor(9, 1, 1))).toMatchObject({ total: 1, band: 'minimal', item9Flag: true });
    expect(scoreAssessment('phq9', answersFor(9, 8, 0)).item9Flag).toBe(false);
  });

  it('rejects wrong counts and out-of-range answers', () => {
    expect(() => scoreAssessment('phq9', [0, 1])).toThrow(InvalidAnswersError);
    expect(() => scoreAssessment('phq9', [0, 0, 0, 0, 0, 0, 0, 0, 4])).toThrow(/answer 9 must be 0, 1, 2 or 3/);
    expect(() => scoreAssessment('phq9', [0, 0, 0, 0, 0, 0, 0, 0, 1.5])).toThrow(InvalidAnswersError);
  });

  it('has nine items and four answers in both languages', () => {
    expect(PHQ9.items.en).toHaveLength(9);
    expect(PHQ9.items.ru).toHaveLength(9);
  });
});

describe('GAD-7 scoring', () => {
  it.each([
    [0, 'minimal'], [4, 'minimal'],
    [5, 'mild'], [9, 'mild'],
    [10, 'moderate'], [14, 'moderate'],
    [15, 'severe'], [21, 'severe'],
  ])('total %i is %s', (total, band) => {
    expect(scoreAssessment('gad7', answersFor(7, total))).toMatchObject({ total, band, item9Flag: false });
  });

  it('needs exactly seven answers', () => {
    expect(() => scoreAssessment('gad7', new Array(9).fill(0))).toThrow(/expected 7 answers, got 9/);
    expect(GAD7.items.ru).toHaveLength(7);
  });
});

it('allows a retest after 14 days', () => {
  expect(nextRetestAt(new Date('2026-01-01T10:00:00Z')).toISOString()).toBe('2026-01-15T10:00:00.000Z');
});
