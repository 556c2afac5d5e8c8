/**
 * Idioms and ordinary uses that contain alarming words. They never erase text: a risk hit is
 * discarded only when its whole span lies inside one of these matches ("I want to die of
 * laughter" is an idiom; "I want to die for real" is not, because no idiom covers "want to die").
 * So each idiom spans the words a risk rule would match, with a few words of lead-in where needed.
 */
import { rx, type Idiom } from './matchers';

const r = String.raw;

export const IDIOMS: readonly Idiom[] = [
  // English
  { name: 'en.die_of_laughter', match: rx(r`\b(?:[\w']+\s+){0,3}(?:die|dying|died|dead)\s+(?:of|from|with)\s+(?:laughter|laughing|embarrassment|boredom|shame|cuteness|hunger|curiosity|envy|excitement|the heat|cringe|happiness|joy|jealousy|suspense)\b|\b(?:[\w']+\s+){0,3}die laughing\b`) },
  { name: 'en.to_die_for', match: rx(r`\b(?:is|was|are|were|looks?|looked|smells?|tastes?|sounds?)\s+(?:\w+\s+)?to die for\b`) },
  { name: 'en.dying_to', match: rx(r`\b(?:dying|die)\s+(?:to|for)\s+(?:see|try|know|hear|go|get|have|meet|tell|find out|watch|read|eat|a|an|some|the)\b`) },
  { name: 'en.rather_die_than_trivial', match: rx(r`\b(?:i'?d|i would|id)?\s*(?:much\s+|honestly\s+)?rather\s+(?:be\s+dead|die)\s+than\s+(?!(?:live|living|keep|go on|going on|feel|feeling|wake|be alive|be here|stay|continue|face|spend another|suffer|be like this|exist|carry on))`) },
  { name: 'en.kill_myself_working', match: rx(r`\bkill(?:ing|ed)?\s+my ?self\s+(?:laughing|at (?:work|the gym|the office)|over (?:this|the|a|my) \w+|to (?:get|finish|make|meet|pass|keep up|hit)|with\s+(?:all\s+)?(?:this\s+|that\s+|so much\s+)?(?:fast food|junk food|work|coffee|cigarettes|smoking|sugar|overtime|stress|studying|training|workouts?))\b`) },
  { name: 'en.self_idioms', match: rx(r`\b(?:(?:i|i'?m|im|gonna|to|just|will|i'?ll)\s+)?cut(?:ting)?\s+my ?self\s+(?:a|an|some|another)\s+(?:slice|piece|break|slack|deal)\b|\bburn(?:ing|ed|t)?\s+my ?self\s+out\b|\bbeat(?:ing)?\s+my ?self\s+up\b|\bshoot(?:ing)?\s+my ?self\s+in\s+the\s+foot\b|\bdrown(?:ing|ed)?\s+my ?self\s+in\s+(?:work|coffee|tea|books|music|tv|shows|netflix|chocolate|ice cream|homework|paperwork|studies|study|tasks)\b|\bthrow(?:ing|n)?\s+my ?self\s+into\s+(?:my |the )?(?:work|job|studies|study|project|hobby|hobbies|training|it|books|music|sport|gym|life)\b|\bhurt\s+my ?self\s+laughing\b`) },
  { name: 'en.suicide_compounds', match: rx(r`\bsuicide (?:squad|mission|doors?|run|runs|sprints?|drills?|burpees|king|pass|bid|prevention (?:training|course|day|week|month|charity|walk))\b`) },
  { name: 'en.news_about_suicide', match: rx(r`\b(?:news|article|report|story|documentary|podcast|headline)\b[^.!?\n]{0,30}\babout\s+(?:a\s+|the\s+)?(?:[\w']+\s+){0,3}suicides?\b`) },
  { name: 'en.gonna_die_without', match: rx(r`\b(?:i'?m\s+)?(?:gonna|going to)\s+die\s+if\s+i\s+(?:don'?t|do not|can'?t)\s+(?:get|have|eat|drink|see)\b`) },
  { name: 'en.so_boring_i_wanted_to_die', match: rx(r`\bso (?:boring|bad|embarrassing|cringe|awkward|cringey|long|slow)\s+(?:that\s+)?i\s+(?:literally\s+)?(?:wanted|want)\s+to\s+die\b`) },
  { name: 'en.literally_gonna_die_if', match: rx(r`\b(?:literally|actually|seriously|omg)\s+(?:going to|gonna)\s+die\b(?=\s+(?:if|of|from|when|laughing))`) },
  { name: 'en.if_i_hear_again', match: rx(r`\bif (?:i|we)\s+(?:have to\s+)?(?:hear|see|watch|listen to|sit through|attend|read)\b[^.!?\n]{0,40}?\b(?:again|one more|another)\b[^.!?\n]{0,20}?(?:i'?m going to|i'?ll|i will|gonna)\s+(?:jump|kill myself|die|throw myself)\b(?:\s+[\w']+){0,4}`) },
  { name: 'en.fear_of_dying', match: rx(r`\b(?:thought|think|felt like|feel like|felt as if|was sure|afraid|scared|worried|feared|convinced|terrified)\s+(?:that\s+)?i\s+(?:was|am|'m|im|might be|would)\s+(?:going to|gonna|about to)?\s*(?:die|dying)\b`) },
  { name: 'en.could_sleep_forever', match: rx(r`\bi could (?:just |literally )?sleep (?:forever|for (?:a|\d|days|weeks|ever))\b`) },
  { name: 'en.hope_not_die', match: rx(r`\b(?:hope|hoping|pray|praying)\s+(?:i|we|he|she|they|it)\s+(?:don'?t|won'?t|do not|will not|doesn'?t)\s+(?:die|crash)\b`) },
  // Russian
  { name: 'ru.die_of_laughter', match: rx(r`\b(?:\p{L}+\s+){0,3}(?:умира\p{L}*|умер\p{L}*|умру|умереть|сдохн\p{L}*|сдох\p{L}*|помру|помереть)\s+(?:от|со|с)\s+(?:смеха|смеху|скуки|стыда|голода|жары|зависти|любопытства|умиления|восторга|счастья|усталости|кринжа|тоски)\b`) },
  { name: 'ru.rather_die_than_trivial', match: rx(r`\b(?:скорее|лучше)\s+(?:\p{L}+\s+)?(?:умру|сдохну|помру|умереть|сдохнуть),?\s+чем\s+(?!жить|так жить|терпеть|страдать|существовать|просыпаться|мучиться)`) },
  { name: 'ru.hang_of_boredom', match: rx(r`\b(?:\p{L}+\s+){0,2}(?:повесил\p{L}*|повешусь|повеситься|застрелюсь|застрелиться|утоплюсь)\s+(?:бы\s+)?от\s+(?:этой\s+|такой\s+)?скуки\b`) },
  { name: 'ru.figurative_suicide', match: rx(r`\b(?:это|было|это было|чистое|настоящее|просто|сущее|чистой воды)\s+(?:\p{L}+\s+)?самоубийство\b(?=\s*(?:,?\s*а не|для|с точки|в (?:плане|смысле)))`) },
  { name: 'ru.die_for_something', match: rx(r`\b(?:\p{L}+\s+){0,3}(?:умер\p{L}*|умру|умереть)\s+за\s+(?!то\b|что\b|это\b|свои\b|вс[её]\b)\p{L}+`) },
  { name: 'ru.if_i_hear_again', match: rx(r`\bесли\s+(?:я\s+)?(?:ещ[её]|опять|снова)\s+(?:\p{L}+\s+)?(?:раз\s+)?(?:услышу|увижу|придется|заставят|включат|поставят|спросят)\b[^.!?\n]{0,40}?(?:выпрыгну|выброшусь|повешусь|застрелюсь|утоплюсь|убью себя|сдохну|умру)(?:\s+(?:в|из|с|под)\s+\p{L}+)?`) },
  { name: 'ru.noose_idiom', match: rx(r`\bхоть\s+в\s+петлю\s+лезь\b|\bхоть\s+вешайся\b`) },
];
