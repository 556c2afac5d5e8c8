import { encodeAction, newNonce } from '../actions';
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

/**
 * `/forget`: asks first; nothing is deleted until the person confirms with the button. The button
 * carries a fresh nonce kept for this person (see ButtonNonces), so only their own latest `/forget`
 * can be confirmed: a copied or forged press deletes nothing.
 */
export async function forgetCommand(turn: TurnContext): Promise<Reply[]> {
  const { dataRights, buttonNonces } = turn.deps;
  if (!dataRights || !buttonNonces) return [{ text: turn.texts.unknownCommand }];
  const nonce = await buttonNonces.issue(turn.userId, 'forget', turn.turnKey, newNonce());
  return [
    {
      text: turn.texts.forgetConfirm,
      buttons: [
        [{ label: turn.texts.forgetYes, action: encodeAction({ kind: 'forget', confirmed: true, nonce }) }],
        [{ label: turn.texts.forgetNo, action: encodeAction({ kind: 'forget', confirmed: false }) }],
      ],
    },
  ];
}

/**
 * The `/forget` confirmation: deletes only if `nonce` is the pressing person's live `/forget`
 * nonce. Deleting is idempotent and the nonce is dropped only once everything else is gone, so a
 * press retried after a forget failed half-way (the consent record may be gone already) confirms
 * again and finishes it.
 */
export async function forgetChoice(turn: TurnContext, choice: { confirmed: true; nonce: string } | { confirmed: false }): Promise<Reply[]> {
  const { dataRights, buttonNonces } = turn.deps;
  if (!choice.confirmed) return [{ text: turn.texts.forgetCancelled }];
  const live = dataRights && buttonNonces ? await buttonNonces.live(turn.userId, 'forget') : null;
  if (!dataRights || live === null || choice.nonce !== live) return [{ text: turn.texts.staleChoice }];
  await dataRights.forget(turn.userId, turn.turnKey);
  return [{ text: turn.texts.forgetDone }];
}
