/**
 * Messages that need no depth: greetings, thanks, short acknowledgements and goodbyes, in Russian
 * and English. They go to the cheaper model tier. Deliberately narrow: the whole message must be
 * one of these phrases (punctuation and emoji aside), so "thanks, but I still feel awful" is not
 * simple; and answers that may carry weight ("yes", "no", "fine", "хорошо") are left out, because
 * they may answer a question that matters. Pure.
 */
const SIMPLE_PHRASES = new Set([
  // en
  'hi', 'hello', 'hey', 'hi there', 'hello there', 'good morning', 'good afternoon', 'good evening', 'good night', 'morning', 'evening',
  'thanks', 'thank you', 'thank you so much', 'thanks a lot', 'many thanks', 'thx', 'ty',
  'ok', 'okay', 'ok thanks', 'okay thanks', 'ok thank you', 'got it', 'i see', 'alright', 'all right', 'cool', 'nice',
  'bye', 'goodbye', 'see you', 'see you later', 'talk later', 'take care',
  // ru
  'привет', 'приветик', 'здравствуй', 'здравствуйте', 'добрый день', 'доброе утро', 'добрый вечер', 'доброй ночи', 'спокойной ночи', 'хай',
  'спасибо', 'спасибо большое', 'большое спасибо', 'благодарю', 'спс', 'спасибки',
  'ок', 'окей', 'ок спасибо', 'понятно', 'ясно', 'поняла', 'понял', 'угу', 'ага', 'супер', 'класс',
  'пока', 'до свидания', 'до встречи', 'до завтра', 'всего доброго',
]);

/** True when the whole message is a greeting, thanks, short acknowledgement or goodbye. */
export function isSimpleMessage(text: string): boolean {
  if (text.length > 40) return false;
  const normalized = text
    .toLowerCase()
    .replace(/ё/g, 'е')
    // Punctuation, symbols and emoji carry no content here.
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return normalized !== '' && SIMPLE_PHRASES.has(normalized);
}
