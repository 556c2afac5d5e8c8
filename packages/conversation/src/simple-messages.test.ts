import { isSimpleMessage } from './simple-messages';

describe('simple messages for the cheaper model tier', () => {
  it('takes whole greetings, thanks, acknowledgements and goodbyes in both languages, whatever the punctuation', () => {
    for (const text of ['Hi!', 'hello there :)', 'Thank you so much!!', 'ok, thanks', 'Got it.', 'Bye 👋', 'Привет!', 'Спасибо большое 🙏', 'Ок спасибо', 'понятно', 'Доброе утро', 'Спокойной ночи', 'Всего доброго!']) {
      expect({ text, simple: isSimpleMessage(text) }).toEqual({ text, simple: true });
    }
  });

  it('leaves anything with content, and answers that may matter, to the main model', () => {
    for (const text of ['thanks, but I still feel awful', 'hi, I cannot sleep', 'no', 'yes', 'fine', 'хорошо', 'нет', 'да', 'спасибо, но мне всё ещё плохо', 'привет, мне тревожно', '', '   ', '!!!', 'hello '.repeat(10)]) {
      expect({ text, simple: isSimpleMessage(text) }).toEqual({ text, simple: false });
    }
  });
});
