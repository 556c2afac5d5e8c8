import { encodeAction } from '../actions';
import type { Reply } from '../types';
import type { TurnContext } from './turn';

/** `/export`: everything kept about the person, as a JSON file (the access is audited by the implementation). */
export async function exportCommand(turn: TurnContext): Promise<Reply[]> {
  const rights = turn.deps.dataRights;
  if (!rights) return [{ text: turn.texts.unknownCommand }];
  const content = await rights.exportData(turn.userId, turn.turnKey);
  const day = turn.now.toISOString().slice(0, 10);
  return [{ text: turn.texts.exportReady, file: { name: `inner-talk-data-${day}.json`, content } }];
}

/** `/forget`: asks first; nothing is deleted until the person confirms with the button. */
export function forgetCommand(turn: TurnContext): Reply[] {
  if (!turn.deps.dataRights) return [{ text: turn.texts.unknownCommand }];
  return [
    {
      text: turn.texts.forgetConfirm,
      buttons: [
        [{ label: turn.texts.forgetYes, action: encodeAction({ kind: 'forget', confirmed: true }) }],
        [{ label: turn.texts.forgetNo, action: encodeAction({ kind: 'forget', confirmed: false }) }],
      ],
    },
  ];
}

/**
 * The `/forget` confirmation. Deleting is idempotent, so a retried or repeated press (even after
 * the consent record is gone) simply confirms again.
 */
export async function forgetChoice(turn: TurnContext, confirmed: boolean): Promise<Reply[]> {
  const rights = turn.deps.dataRights;
  if (!confirmed || !rights) return [{ text: turn.texts.forgetCancelled }];
  await rights.forget(turn.userId, turn.turnKey);
  return [{ text: turn.texts.forgetDone }];
}
