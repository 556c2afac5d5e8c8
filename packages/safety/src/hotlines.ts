/**
 * Crisis contacts shown in safety replies. Only verified numbers, each labelled with where it works
 * and for whom: Russia's 112 emergency and Moscow's 051 emergency psychological help (8-495-051 from
 * mobiles); 8-800-2000-122 (short 124 from mobiles), free and anonymous, which is the helpline for
 * children, teenagers and their parents — so it is named as such, never as a general line in an
 * 18+ product; US 988 (call or text) and 911. Telegram tells us a language, not a country: a person
 * writing in either language may be anywhere, so every list ends with the local emergency number and
 * an international directory of free helplines instead of numbers we have not verified.
 */
export interface Hotline {
  label: string;
  number: string;
}

export const HOTLINES: Readonly<Record<'ru' | 'en', readonly Hotline[]>> = {
  ru: [
    { label: 'Экстренные службы (Россия)', number: '112' },
    { label: 'Москва, экстренная психологическая помощь, круглосуточно', number: '051 (с мобильного 8-495-051)' },
    { label: 'Россия, телефон доверия для детей, подростков и их родителей (бесплатно, анонимно)', number: '8-800-2000-122 (с мобильного также 124)' },
  ],
  en: [
    { label: 'US: 988 Suicide & Crisis Lifeline (call or text)', number: '988' },
    { label: 'US: emergency', number: '911' },
    { label: 'Russia: emergency', number: '112' },
  ],
};

/** The last line of every contact list: what to do anywhere else (no number we have not verified). */
export const HOTLINES_ELSEWHERE: Readonly<Record<'ru' | 'en', string>> = {
  ru: 'В другой стране: местный номер экстренных служб; бесплатные линии помощи по странам — findahelpline.com',
  en: 'Anywhere else: your local emergency number; free helplines by country: findahelpline.com',
};
