/**
 * Crisis contacts shown in safety replies. Only verified numbers: Russia's free, anonymous line
 * 8-800-2000-122 (short 124 from mobiles), 112 emergency and Moscow's 051 (8-495-051 from mobiles);
 * US 988 (call or text) and 911. A person writing in English may be anywhere: they get both sets.
 */
export interface Hotline {
  label: string;
  number: string;
}

export const HOTLINES: Readonly<Record<'ru' | 'en', readonly Hotline[]>> = {
  ru: [
    { label: 'Экстренные службы', number: '112' },
    { label: 'Телефон доверия (бесплатно, анонимно, круглосуточно)', number: '8-800-2000-122 (с мобильного также 124)' },
    { label: 'Москва, экстренная психологическая помощь', number: '051 (с мобильного 8-495-051)' },
  ],
  en: [
    { label: 'US Suicide & Crisis Lifeline (call or text)', number: '988' },
    { label: 'US emergency', number: '911' },
    { label: 'Russia, free helpline', number: '8-800-2000-122' },
    { label: 'Russia, emergency', number: '112' },
  ],
};
