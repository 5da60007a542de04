// The stand-in's fixed data: the calls behind /api/calls-dashboard (the other bodies are the
// examples of config/contract.yml).
// Fixed (one call every 7 hours back from start), so paging and filters give stable answers.

export const CALL_STATUSES = ['completed', 'missed', 'transferred', 'failed'] as const;
export const SORT_KEYS = ['date', 'duration', 'name'] as const;
export const CALL_TYPES = ['inbound', 'outbound'] as const;

export interface Call {
  id: string;
  phone_number: string;
  caller_name: string;
  call_date: string;
  duration_seconds: number;
  status: (typeof CALL_STATUSES)[number];
  call_type: (typeof CALL_TYPES)[number];
  sentiment_label: string;
  sentiment_score: number;
  outcome_summary: string;
  has_recording: boolean;
  has_transcript: boolean;
  is_test_call: boolean;
}

export function buildCalls(now: number): Call[] {
  const names = ['Sarah Mitchell', 'James Okafor', 'Priya Nair', 'Tom Becker', 'Lucia Romero', 'Daniel Kim', 'Amara Osei'];
  const outcomes = ['Booked a consultation', 'Asked about pricing', 'Left a voicemail', 'Transferred to front desk', 'Rescheduled appointment'];
  const sentiments: Array<[string, number]> = [
    ['positive', 0.82],
    ['neutral', 0.51],
    ['negative', 0.23],
  ];
  return Array.from({ length: 47 }, (_, i) => {
    const status = CALL_STATUSES[i % 7 === 3 ? 1 : i % 11 === 5 ? 3 : i % 5 === 2 ? 2 : 0];
    const [sentiment_label, sentiment_score] = sentiments[i % 3];
    return {
      id: `5d1c0a7e-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`,
      phone_number: `+1555010${String(i).padStart(4, '0')}`,
      caller_name: names[i % names.length],
      call_date: new Date(now - i * 7 * 3600_000).toISOString(),
      duration_seconds: status === 'missed' ? 0 : 45 + ((i * 37) % 420),
      status,
      call_type: i % 4 === 1 ? 'outbound' : 'inbound',
      sentiment_label,
      sentiment_score,
      outcome_summary: outcomes[i % outcomes.length],
      has_recording: status !== 'missed',
      has_transcript: status !== 'missed',
      is_test_call: i % 9 === 8,
    };
  });
}
