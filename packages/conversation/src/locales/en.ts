export const en = {
  greeting:
    'Hi, I am Inner Talk, an AI companion for calm, supportive conversations. I am an AI, not a human and not a replacement for a psychologist or a doctor. Tell me what is on your mind.',
  emptyMessage: 'I can only read text for now. Could you write it in words?',
  needAMoment: 'I need a moment to gather my thoughts. I will answer you shortly.',
} as const;
