import { HOTLINES, HOTLINES_ELSEWHERE } from './index';

describe('crisis contacts', () => {
  it('label the children’s helpline for whom it is, in every list that has it', () => {
    const lines = [...HOTLINES.ru, ...HOTLINES.en].filter((h) => h.number.includes('8-800-2000-122'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.label).toMatch(/дет|child/i);
  });

  it('say where each number works and end with what to do anywhere else', () => {
    for (const h of HOTLINES.en) expect(h.label).toMatch(/^(US|Russia):/);
    for (const h of HOTLINES.ru) expect(h.label).toMatch(/Росси|Москва/);
    expect(HOTLINES_ELSEWHERE.en).toContain('local emergency number');
    expect(HOTLINES_ELSEWHERE.ru).toContain('местный номер экстренных служб');
    for (const text of Object.values(HOTLINES_ELSEWHERE)) {
      expect(text).toContain('findahelpline.com');
      // No phone number rides along with the directory: only verified numbers are ever shown.
      expect(text).not.toMatch(/\d{3}/);
    }
  });
});
