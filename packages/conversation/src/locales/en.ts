export const en = {
  greeting:
    'Hi, I am Inner Talk, an AI companion for calm, supportive conversations. I am an AI, not a human and not a replacement for a psychologist or a doctor. Tell me what is on your mind.',
  emptyMessage: 'I can only read text for now. Could you write it in words?',
  crisisHigh:
    'I am really glad you told me. What you are feeling matters, and you do not have to carry it alone. I am an AI and cannot keep you safe, but people can, right now:',
  crisisLow:
    'That sounds really heavy. If it ever feels like too much, or thoughts of not wanting to live come up, you can talk to someone right now:',
  crisisOutro: 'If you are in danger, please call emergency services. I am here and we can keep talking, at your pace.',
  sos: 'If you are in danger or thinking about ending your life, please reach out now:',
  needAMoment: 'I need a moment to gather my thoughts. I will answer you shortly.',
} as const;
