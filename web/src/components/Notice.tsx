export interface NoticeText {
  text: string;
  failed: boolean;
}

/** The outcome of an action, until dismissed. */
export function Notice({
  notice,
  onClose,
}: {
  notice: NoticeText | undefined;
  onClose: () => void;
}) {
  if (!notice) return null;
  return (
    <div className={`notice ${notice.failed ? 'bad' : 'good'}`} role="status">
      <span>{notice.text}</span>
      <button type="button" className="link" onClick={onClose} aria-label="Dismiss">
        ✕
      </button>
    </div>
  );
}
