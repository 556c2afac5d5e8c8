/**
 * English texts. Placeholders in braces (`{title}`) are filled by `fill`; every locale must use the
 * same placeholders for a key (checked by the locale tests).
 */
export const en = {
  // --- general ---
  emptyMessage: 'I can only read text for now. Could you write it in words?',
  unknownCommand: 'I do not know that command. /help shows what I can do.',
  staleChoice: 'That button is no longer active.',
  privateChatsOnly: 'I only talk in private chats: open a chat with me.',
  needAMoment: 'I need a moment to gather my thoughts. I will answer you shortly.',
  couldNotAnswer: 'I am sorry, something went wrong and I could not answer your message. Please send it again a little later.',

  // --- onboarding ---
  chooseLanguage: 'Hi, I am Inner Talk. Please choose a language.\nЗдравствуйте, я Inner Talk. Выберите, пожалуйста, язык.',
  languageNameRu: 'Русский',
  languageNameEn: 'English',
  disclosure:
    'Before we start, so that it is clear: I am an AI, a computer program, not a human. I am not a psychologist, a doctor or a crisis service, and I do not replace them. I can listen, help you sort out your thoughts, suggest small self-help steps and offer short self-check questionnaires.',
  askAdult: 'Inner Talk is for adults. Are you 18 or older?',
  adultYes: 'Yes, I am 18 or older',
  adultNo: 'No, I am under 18',
  underage:
    'Thank you for being honest. Inner Talk is only for adults, so I cannot continue our conversation. If things are hard right now, these people can help, free and any time:',
  askConsent:
    'One more thing. To talk with you I need to store and process what you write, and that can include information about your health and mood: your messages, self-check results and short summaries of our conversations. To write my replies, your messages are sent to {processors}. Their servers may be outside your country (for example in the USA), so your data leaves it; they may keep requests for a limited time under their own terms, for example to check for abuse. What I keep is stored encrypted until you delete it with /forget, used only to support you, never sold or shared for advertising, and /export downloads all of it at any time. Do you agree to this processing of your health-related data, including its transfer abroad?',
  /** Joins the names of several data processors in the consent text. */
  processorsJoin: ' and ',
  /** Used when no processor is configured (never in a running worker). */
  processorsUnknown: 'an external AI service',
  consentYes: 'I agree',
  consentNo: 'I do not agree',
  consentGiven:
    'Thank you. I am glad you are here. Tell me what is on your mind, in your own words and at your own pace.\n\n/test offers a short self-check, /help shows what I can do, /sos shows crisis contacts.',
  declined:
    'I understand, and that is completely fine. I have kept nothing except the fact that you declined. If you change your mind, send /start. If you ever feel in danger, /sos shows crisis contacts at any time.',
  finishOnboardingFirst: 'Before we talk, let us finish getting started: it takes just a few taps.',
  welcomeBack: 'Good to see you. I am an AI companion, not a human and not a replacement for a professional. Tell me what is on your mind, or send /help.',
  disclosureAfterAbsence: 'Welcome back. A reminder: I am an AI, not a human, and not a replacement for a psychologist or a doctor. In an emergency, /sos shows crisis contacts.',

  // --- help and language ---
  help:
    'I am Inner Talk, an AI companion for calm, supportive conversations. I am an AI, not a human, and not a replacement for a psychologist, a doctor or a crisis service.\n\nJust write to me in your own words. Commands:\n/test — a short self-check (PHQ-9 for depression, GAD-7 for anxiety)\n/end — end our conversation and get a short summary\n/session — start a fresh conversation\n/history — your summaries (each can be deleted)\n/export — download all your data as a file\n/forget — delete all your data\n/language — change the language\n/sos — crisis contacts, at any time\n/start — start again\n/help — this message',
  languagePrompt: 'Choose a language / Выберите язык:',
  languageSet: 'Done: I will answer in English.',

  // --- crisis ---
  crisisHigh:
    'I am really glad you told me. What you are feeling matters, and you do not have to carry it alone. I am an AI and cannot keep you safe, but people can, right now:',
  crisisLow:
    'That sounds really heavy. If it ever feels like too much, or thoughts of not wanting to live come up, you can talk to someone right now:',
  crisisItem9:
    'Thank you for answering honestly. You said that thoughts of being better off dead or of hurting yourself have come up. That matters, and you do not have to face it alone. Please talk to someone who can help, right now:',
  crisisOutro: 'If you are in danger, please call emergency services. I am here and we can keep talking, at your pace.',
  safetyUnchecked: 'I could not check your message properly just now, so to be safe, here are people you can talk to right away:',
  safetyUncheckedOutro: 'I will answer your message as soon as I can.',
  replyRefused:
    'I am not able to answer this message myself, but I do not want to leave you alone with it. If things feel heavy, these people can listen and help, right now:',
  sos: 'If you are in danger or thinking about ending your life, please reach out now:',

  // --- self-checks ---
  testMenu:
    'Self-checks are short, widely used questionnaires about the last two weeks. They do not give a diagnosis, but they can show how things are and how they change over time. Which one would you like?',
  testStarted: '{title}: {count} questions.\n{stem}\nTap one answer for each question.',
  testQuestion: '{title}, question {number} of {count}\n\n{item}',
  testRetestTooSoon:
    'You completed {title} on {date}. Repeating it sooner than two weeks says little new, so it will be available again from {nextDate}. Meanwhile, I am here to talk.',
  testResult: '{title}: {total} of {max} points, {band}.',
  bandMinimal: 'minimal',
  bandMild: 'mild',
  bandModerate: 'moderate',
  bandModeratelySevere: 'moderately severe',
  bandSevere: 'severe',
  explainMinimal: 'Your answers suggest few or no symptoms over the last two weeks. It is still good to notice what helps you feel this way.',
  explainMild: 'Your answers suggest mild symptoms. That is common in hard periods; small steps like sleep, movement and talking things through often help. It is worth checking again in two weeks.',
  explainModerate: 'Your answers suggest moderate symptoms. It sounds like the last two weeks have not been easy, and you deserve support with that.',
  explainModeratelySevere: 'Your answers suggest moderately severe symptoms. That is a lot to carry, and you deserve real support with it.',
  explainSevere: 'Your answers suggest severe symptoms. I am sorry it has been this hard. You deserve support, and you do not have to handle it alone.',
  suggestProfessional:
    'With a score of 10 or more, it is a good idea to talk to a psychologist, a psychotherapist or a doctor: they can look at it properly and help. You can show them this result.',
  testNotDiagnosis: 'This is a self-check, not a diagnosis. I am here if you want to talk about it.',

  // --- sessions and summaries ---
  sessionSummaryIntro: 'Here is a short summary of our conversation:',
  sessionEndedSummary: 'Our last conversation was a while ago, so I saved a short summary of it:',
  sessionBudgetSummary: 'We have covered a lot in this conversation. So that I keep the thread, here is a short summary, and we continue from it:',
  summaryFooter: '/history shows your summaries; each can be deleted.',
  sessionEndedEmpty: 'Our conversation is closed. There was nothing to summarize yet.',
  noActiveSession: 'We have no conversation open right now. Just write to me when you want to talk.',
  sessionStarted: 'A fresh conversation begins. What is on your mind?',
  historyEmpty: 'There are no summaries yet. When a conversation ends (/end, or after a pause), I write a short summary of it.',
  historyIntro: 'Your summaries, newest first ({count}):',
  historyDeleteButton: 'Delete this summary',
  summaryDeleted: 'The summary is deleted.',
  summaryAlreadyDeleted: 'That summary is already gone.',

  // --- limits ---
  rateLimited: 'You are writing faster than I can answer well. Let us slow down a little: please send your next message in a minute.',
  dailyBudgetReached: 'We have talked a lot today, and I have reached my daily limit for our conversations. Let us continue tomorrow. If you need help right now, /sos shows crisis contacts.',

  // --- your data ---
  exportReady: 'Here is everything I keep about you, as a JSON file: your messages, summaries, self-check results and settings.',
  exportCaption: 'Your Inner Talk data',
  forgetConfirm: 'This deletes everything I keep about you: messages, summaries, self-check results and settings. It cannot be undone. Delete it all?',
  forgetYes: 'Yes, delete everything',
  forgetNo: 'No, keep it',
  forgetDone: 'Done: everything I kept about you is deleted. If you write again, we start from the beginning. Take care of yourself.',
  forgetCancelled: 'Nothing was deleted.',
} as const;
