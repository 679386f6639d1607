// @ts-check
// Tsunagu Inbox — strings and small helpers shared by every page.
// Japanese first; English available. All user-visible text lives here.

const LANG_KEY = "tsunagu.lang";
const TIME_ZONE = "Asia/Tokyo";

/** @typedef {"ja" | "en"} Lang */

/** @type {Record<Lang, Record<string, string>>} */
export const STRINGS = {
  ja: {
    "lang.toggle": "English",
    "lang.toggleAria": "Switch to English",

    // landing
    "index.title": "つなぐ",
    "index.heading": "つなぐ",
    "index.lead": "ひとりで抱えこまないで。話したいことがあれば、いつでも書いてください。",
    "index.chat": "相談する",
    "index.chatHint": "名前は要りません。匿名で相談できます。",
    "index.console": "相談員の方",
    "index.consoleHint": "スタッフ用のサインイン",
    "index.emergency": "命の危険があるときは 110番（警察）・119番（救急）へ。",

    // chat
    "chat.title": "つなぐ 相談チャット",
    "chat.heading": "つなぐ 相談チャット",
    "chat.quickExit": "すぐに閉じる",
    "chat.noticeLabel": "お知らせ",
    "chat.noticeAnon": "匿名でも大丈夫です・秘密は守られます。",
    "chat.noticeEmergency": "緊急のときは 110番（警察）・119番（救急）へ電話してください。",
    "chat.noticeSettingsSummary": "この端末について",
    "chat.noticeDevice":
      "ふだんは、このタブを閉じるとこの端末にやりとりは残りません。「この端末にやりとりを残す」を選ぶと、あとでこの端末から続きを見られます。家族と共有している端末では選ばないでください。「すぐに閉じる」を押すと、このページは別のページに替わり、戻るボタンでも戻りません。",
    "chat.status.connecting": "接続中…",
    "chat.status.connected": "接続しました",
    "chat.status.reconnecting": "再接続しています…",
    "chat.messagesLabel": "やりとり",
    "chat.empty":
      "ここに話したいことを書いてください。相談員が順番にお返事します。お返事まで時間がかかることがあります。",
    "chat.me": "あなた",
    "chat.counselor": "相談員",
    "chat.state.sending": "送信中…",
    "chat.state.sent": "送信済み",
    "chat.state.failed": "送信できませんでした",
    "chat.state.retry": "混みあっています。自動でもう一度送ります…",
    "chat.failedEdit": "入力欄に戻す",
    "chat.inputLabel": "メッセージ",
    "chat.inputPlaceholder": "メッセージを入力（Enterで送信、Shift+Enterで改行）",
    "chat.send": "送信",
    "chat.queueStatus": "待ち状況を確認",
    "chat.counter": "残り {n} 文字",
    "chat.counterOver": "{n} 文字多すぎます（最大 {max} 文字）",
    "chat.clear": "この端末の履歴を消す",
    "chat.clearConfirm": "この端末からやりとりの記録を消します。元に戻せません。よろしいですか？",
    "chat.clearYes": "消す",
    "chat.clearNo": "やめる",
    "chat.cleared": "この端末の履歴を消しました。",
    "chat.error.generic": "エラーが起きました。時間をおいてもう一度お試しください。",
    "chat.error.tooLarge": "長すぎるため送れませんでした。10000文字以内に分けて送ってください。",
    "chat.error.validation": "この内容は送れませんでした。",
    "chat.error.rateLimited": "続けて送られたため、少し待ってから自動でもう一度送ります…",
    "chat.error.dailyLimit": "今日はこれ以上送れません。明日また送ってください。",
    "chat.error.tooMany": "操作が続いたため休止しています。少し待ってからもう一度お試しください。",
    "chat.earlier": "以前のメッセージを読み込む",
    "chat.earlierLoading": "読み込み中…",
    "chat.hintKeys": "Enterで送信・Shift+Enterで改行",

    // console
    "console.title": "つなぐ 相談員コンソール",
    "console.heading": "つなぐ 相談員コンソール",
    "console.status.connecting": "接続中…",
    "console.status.connected": "リアルタイム更新中",
    "console.status.reconnecting": "再接続しています…",
    "console.status.offline": "未接続",
    "console.signout": "サインアウト",
    "console.signedInAs": "サインイン中: {name}",
    "login.heading": "スタッフのサインイン",
    "login.username": "ユーザー名",
    "login.password": "パスワード",
    "login.submit": "サインイン",
    "login.submitting": "サインインしています…",
    "login.required": "ユーザー名とパスワードを入力してください。",
    "login.badCredentials": "ユーザー名またはパスワードが違います。",
    "login.tooMany": "サインインの失敗が続いたため、しばらく受け付けません。{minutes}分ほど待ってからもう一度お試しください。",
    "login.expired": "セッションが切れました。もう一度サインインしてください。",
    "login.signedOut": "サインアウトしました。",
    "queue.heading": "受付一覧",
    "queue.filter": "表示",
    "queue.filter.all": "すべて",
    "queue.filter.mine": "自分の担当",
    "queue.filter.unassigned": "未割当",
    "queue.empty": "対応が必要な相談はありません。",
    "queue.refresh": "更新",
    "queue.mine": "自分の担当",
    "queue.priority": "優先",
    "queue.waitingFor": "受信から {d}",
    "queue.noInbound": "受信なし",
    "conv.empty": "左の一覧から相談を選んでください。",
    "conv.back": "一覧に戻る",
    "conv.loading": "読み込み中…",
    "conv.assignee": "担当",
    "conv.assignee.me": "自分",
    "conv.assignee.none": "未割当",
    "conv.claim": "自分の担当にする",
    "conv.close": "相談を終了する",
    "conv.messagesLabel": "やりとりの記録",
    "conv.noMessages": "まだメッセージはありません。",
    "conv.from.inbound": "相談者",
    "conv.from.outbound": "相談員",
    "conv.from.note": "内部メモ",
    "conv.author.me": "自分",
    "conv.attachments": "添付ファイル",
    "conv.attachment.notStored": "サイズ上限を超えたため保存されていません",
    "conv.replyLabel": "返信",
    "conv.noteLabel": "内部メモ（相談者には送られません）",
    "conv.noteToggle": "内部メモとして保存する",
    "conv.replyPlaceholder": "相談者への返信を入力（Ctrl+Enterで送信）",
    "conv.notePlaceholder": "内部メモを入力（相談者には表示されません）",
    "conv.sendReply": "返信を送る",
    "conv.saveNote": "メモを保存",
    "conv.sending": "送信中…",
    "conv.created": "受付",
    "error.network": "サーバーに接続できませんでした。通信状態を確認してください。",
    "error.http": "エラーが起きました（{status}）。",
    "error.dismiss": "閉じる",

    "status.queued": "未対応",
    "status.assigned": "対応中",
    "status.waiting": "相談者の返信待ち",
    "status.closed": "終了",
    "channel.webchat": "Webチャット",
    "channel.mail": "メール",
    "channel.sms": "SMS",
    "channel.line": "LINE",
    "channel.phone": "電話",
    "delivery.received": "受信",
    "delivery.pending": "送信待ち",
    "delivery.sent": "送信済み",
    "delivery.failed": "送信失敗",
    "delivery.none": "",
    "role.counselor": "相談員",
    "role.supervisor": "スーパーバイザー",
    "role.phone_staff": "電話受付",
    "role.admin": "管理者",

    "dur.lessMinute": "1分未満",
    "dur.minutes": "{n}分",
    "dur.hours": "{h}時間{m}分",
    "dur.days": "{d}日{h}時間",

    // --- context: search, her history, closing with an outcome
    "search.heading": "相談を検索",
    "search.q": "ことば",
    "search.qHint": "メッセージの中のことば（日本語は区切らずにそのまま）",
    "search.alias": "相談者（仮名）",
    "search.tag": "タグ",
    "search.status": "状態",
    "search.any": "すべて",
    "search.channel": "窓口",
    "search.from": "受付日（から）",
    "search.to": "受付日（まで）",
    "search.submit": "検索",
    "search.reset": "条件を消す",
    "search.results": "検索結果",
    "search.more": "さらに表示",
    "search.needSomething": "ことばか条件を1つ以上入れてください。",
    "search.searching": "検索しています…",
    "search.found": "{n} 件見つかりました。",
    "search.none": "見つかりませんでした。",
    "search.recentOnly": "2文字以下のことばは、最近の {n} 件のメッセージの中だけを探しました。",
    "history.heading": "この相談者のこれまでの相談",
    "history.summary": "この相談者のこれまでの相談（{n} 件）",
    "history.more": "さらに前の相談",
    "history.returning": "再来の相談者",
    "history.returningBy": "再来の相談者・前回の担当: {name}",
    "history.current": "この相談",
    "history.outcome": "結果",
    "history.handledBy": "担当",
    "history.nobody": "なし",
    "history.messages": "{n} 通",
    "history.note": "終了メモ",
    "history.read": "やりとりを読む",
    "history.older": "さらに前を読む",
    "history.messagesOf": "{date} の相談のやりとり",
    "closing.heading": "相談を終了する",
    "closing.lead": "どのように終わったかを記録します。終了すると返信欄は閉じます。",
    "closing.outcome": "結果",
    "closing.note": "メモ（任意・相談者には送られません）",
    "closing.choose": "選んでください",
    "closing.cancel": "キャンセル",
    "closing.confirm": "終了する",
    "closing.needOutcome": "結果を選んでください。",
    // --- desk: presence and load, names, tags, canned replies, error codes
    "desk.presence": "在席状況",
    "desk.presence.available": "対応可能",
    "desk.presence.away": "離席中",
    "desk.presence.offline": "オフライン",
    "desk.presence.saved": "在席状況を「{presence}」にしました",
    "desk.load": "{open} / {capacity}件",
    "desk.loadLabel": "担当中の相談 {open}件（上限 {capacity}件）",
    "conv.assignee.named": "{name}",
    "conv.assignee.unknown": "他の相談員",
    "conv.author.named": "{name}",
    "conv.author.unknown": "スタッフ",
    "tags.heading": "タグ",
    "tags.none": "タグなし",
    "tags.edit": "タグを編集",
    "tags.choose": "タグを選ぶ",
    "tags.choosePlaceholder": "選んでください",
    "tags.free": "自由タグ",
    "tags.freePlaceholder": "新しいタグ",
    "tags.add": "追加",
    "tags.remove": "タグ「{tag}」を外す",
    "tags.system": "自動判定のタグ（外せません）",
    "tags.saved": "タグを保存しました",
    "canned.open": "定型文",
    "canned.openHint": "定型文を挿入（Ctrl+/ または先頭で「/」）",
    "canned.dialog": "定型文を選ぶ",
    "canned.filter": "定型文を絞り込む",
    "canned.filterPlaceholder": "件名や本文で絞り込み",
    "canned.empty": "該当する定型文はありません。",
    "canned.help": "↑↓で選び、Enterで挿入、Escで閉じます。",
    "canned.close": "閉じる",
    "canned.editor": "定型文の管理",
    "canned.editorOpen": "定型文を管理",
    "canned.back": "相談画面に戻る",
    "canned.add": "定型文を追加",
    "canned.edit": "編集",
    "canned.delete": "削除",
    "canned.confirmDelete": "定型文「{title}」を削除しますか？",
    "canned.titleJa": "件名（日本語）",
    "canned.titleEn": "件名（英語）",
    "canned.bodyJa": "本文（日本語）",
    "canned.bodyEn": "本文（英語）",
    "canned.position": "表示順",
    "canned.save": "保存する",
    "canned.cancel": "やめる",
    "canned.saved": "定型文を保存しました",
    "canned.deleted": "定型文を削除しました",
    "canned.updatedBy": "最終更新：{name}",
    "canned.seeded": "初期設定",
    "canned.noTitle": "（件名なし）",
    "canned.listLabel": "定型文の一覧",
    "error.code.validation": "入力内容を確認してください。",
    "error.code.too_large": "長すぎます。短くしてください。",
    "error.code.unauthenticated": "ログインしてください。",
    "error.code.bad_credentials": "ユーザー名またはパスワードが違います。",
    "error.code.too_many_attempts": "ログインの失敗が続いたため、しばらくログインできません。",
    "error.code.csrf": "操作を受け付けられませんでした。ページを再読み込みしてください。",
    "error.code.origin": "この接続は許可されていません。",
    "error.code.forbidden": "この操作を行う権限がありません。",
    "error.code.not_found": "見つかりませんでした。削除されたか、表示できません。",
    "error.code.conflict": "ほかの操作で状態が変わったため、実行できませんでした。画面を更新してください。",
    "error.code.reply_collision": "ほかのスタッフが先に返信しました。内容を確認してから送ってください。",
    "error.code.busy": "混み合っています。少し待ってからもう一度お試しください。",
    "error.code.database": "データベースに接続できません。少し待ってからもう一度お試しください。",
    "error.field": "（項目：{field}）",
    "field.body": "本文",
    "field.tags": "タグ",
    "field.title_ja": "件名（日本語）",
    "field.title_en": "件名（英語）",
    "field.body_ja": "本文（日本語）",
    "field.body_en": "本文（英語）",
    "field.position": "表示順",
    "field.presence": "在席状況",
    "field.user_id": "担当者",
    "field.note": "メモ",
    "field.reason": "理由",
    "field.outcome": "終了の結果",
    "field.last_seen_message_id": "最後に見たメッセージ",
    "field.force": "送信の確認",
    // --- live collaboration: typing, read state, no double replies, moving away
    "chat.typing": "相談員が入力中…",
    "live.viewing": "{names}も表示中です",
    "live.typing": "{names}が入力中です…",
    "live.read": "既読",
    "live.collision": "{names}が先に返信しました。それでも送信しますか？",
    "live.sendAnyway": "それでも送信する",
    "live.dontSend": "送信しない",
    "live.movedTo": "{to}さんに移されました（{by}さんによる）",
    "live.requeued": "待ち行列に戻されました（{by}さんによる）",
    "live.readOnly": "この画面では、もう返信できません。",
    "live.someone": "スタッフ",
    // --- safety: urgency the console shows and sounds
    "urgency.rules": "要確認",
    "urgency.generic": "緊急",
    "urgency.badge": "緊急：{category}",
    "urgent.title": "({n}) {title}",
    "urgent.alert": "緊急のメッセージ（{category}）：{alias}",
    "urgent.breach": "応答目標の時間を過ぎています：{alias}",
    "urgent.assigned": "緊急の相談があなたの担当になりました（{category}）：{alias}",
    "urgent.kind.breach": "応答目標超過",
    "urgent.open": "開く",
    "urgent.dismiss": "閉じる",
    "urgent.dismissAria": "{alias} のお知らせを閉じる",
    "urgent.notifyTitle": "つなぐ：至急ご確認ください",
    "urgent.notifyEnable": "通知を有効にする",
    "urgent.notifyBlocked": "通知はブラウザーで止められています",
    "urgent.sound": "通知音",
    // --- chat: quick exit, hours, where she stands, the end of a conversation
    "chat.quickExitHint": "このページをすぐに別のページに替えます。戻るボタンでも戻りません。",
    "chat.infoLabel": "受付時間と待ち状況",
    "chat.keep": "この端末にやりとりを残す",
    "chat.automatic": "自動メッセージ",
    "conv.automatic": "自動メッセージ（システム）",
    "chat.dividerEnded": "ここで前の相談は終了しました",
    "chat.ended": "この相談は終了しました。",
    "chat.againAnytime": "また話したくなったら、いつでもここに書いてください。順番にお返事します。",
    "chat.againHours": "また話したくなったら、いつでもここに書いてください。{hours}",
    "chat.today": "今日 {time}",
    "chat.tomorrow": "明日 {time}",
    "chat.hoursAlways": "24時間受付",
    "chat.hoursWeekly": "受付時間: {weekly}",
    "chat.hoursWeeklyHolidays": "受付時間: {weekly}（祝日・年末年始はお休み）",
    "chat.hoursOpenUntil": "・ただいま受付中（{time}まで）",
    "chat.hoursNext": "・次の受付: {time}",
    "chat.nextOpeningUnknown": "次の受付時間",
    "chat.waitMinutes": "約{n}分",
    "chat.waitHours": "約{n}時間",
    "chat.standing.closedNow":
      "ただいま受付時間外です。メッセージは今送れます。お返事は{time}以降になります。",
    "chat.standing.withCounselor": "相談員が対応しています。",
    "chat.standing.paused":
      "ただいま新しい相談の受付を一時止めています。メッセージは届いています。再開しだいお返事します。",
    "chat.standing.outsideHours": "受付時間外のため、{time}以降に順番にお返事します。",
    "chat.standing.closed": "この相談は終了しました。",
    "chat.standing.arrived": "メッセージは届いています。相談員が順番にお返事します。",
    "chat.standing.queued": "あなたの順番は{n}番目です。相談員が順番にお返事します。",
    "chat.standing.queuedWait": "あなたの順番は{n}番目です（目安{wait}）。相談員が順番にお返事します。",
    // --- link: one consulter across channels (supervisors link her conversations)
    "link.number": "相談番号: {id}",
    "link.open": "別の窓口の相談をつなげる",
    "link.lead":
      "同じ方だと確かめられたときだけつなげます（自動では判断しません）。つなげると、この方の相談が窓口をまたいで一つの履歴になり、同じ呼び名で表示されます。",
    "link.other": "つなげる相談の番号",
    "link.otherHint": "相手の相談を開いたときに「相談番号」として表示されます。",
    "link.reason": "理由（記録に残ります）",
    "link.submit": "つなげる",
    "link.confirm": "相談番号 {id} の相談者を、この相談者と同じ方としてつなげます。よろしいですか？",
    "link.needNumber": "つなげる相談の番号を数字で入れてください。",
    "link.needReason": "つなげる理由を入れてください。",
    "link.badOther": "この相談自身か、すでにこの方の相談です。別の相談の番号を入れてください。",
    "link.notFound": "その番号の相談は見つかりませんでした。",
    "link.done": "つなげました。{alias} の相談を {kept} の履歴に表示します。",
    "field.conversation_id": "相談番号",
    // --- staff pages: the nav and the frame (lib/staff_page.js)
    "nav.label": "スタッフ用の画面",
    "nav.console": "相談コンソール",
    "nav.board": "ボード",
    "nav.audit": "操作記録",
    "nav.accounts": "アカウント",
    "nav.denied": "この画面を使う権限がありません。上の一覧から使える画面を開いてください。",
    "board.title": "つなぐ スーパーバイザーボード",
    "board.heading": "つなぐ ボード",
    "board.alerts": "アラート",
    "board.counselors": "相談員",
    "board.queue": "待ち行列",
    "board.conversations": "相談の割り振り",
    "audit.title": "つなぐ 操作記録",
    "audit.heading": "つなぐ 操作記録",
    "accounts.title": "つなぐ アカウント管理",
    "accounts.heading": "つなぐ アカウント管理",
    // --- board: the supervisor's live board (board/*.js)
    "board.conv.waitingHeading": "待っている相談（緊急・古い順）",
    "board.conv.waited": "待ち {d}",
    "board.conv.dueIn": "目標まで {d}",
    "board.conv.overdue": "目標を {d} 超過",
    "board.conv.none": "待っている相談はありません。",
    "board.conv.count": "{n} 件",
    "board.conv.capped": "{total} 件のうち {n} 件を表示",
    "board.counselor.none": "勤務中・サインイン中の相談員はいません。",
    "board.counselor.connected": "接続中",
    "board.counselor.disconnected": "未接続",
    "board.counselor.load": "担当",
    "board.counselor.loadOf": "{load} / {capacity} 件",
    "board.counselor.byChannel": "チャネル別",
    "board.counselor.channelLoad": "{channel} {load}",
    "board.counselor.channelLoadCap": "{channel} {load}/{cap}",
    "board.counselor.shift": "シフト",
    "board.counselor.onShift": "勤務時間内",
    "board.counselor.offShift": "勤務時間外",
    "board.counselor.lastAssigned": "最後の割り当て",
    "board.counselor.never": "なし",
    "board.counselor.ago": "{d}前",
    "board.counselor.targets": "応答目標",
    "board.counselor.targetsValue": "間近 {soon} 件・超過 {over} 件",
    "board.counselor.conversationsOf": "{name}さんの担当",
    "board.queue.caption": "待ち行列（合計 {n} 件）",
    "board.queue.channel": "チャネル",
    "board.queue.priority": "優先度",
    "board.queue.count": "件数",
    "board.queue.oldest": "最長の待ち時間",
    "board.queue.urgent": "緊急（{p}）",
    "board.queue.normal": "通常",
    "board.queue.empty": "待っている相談はありません。",
    "board.waits.heading": "今日の待ち時間（{day}、日本時間）",
    "board.waits.count": "今日の相談",
    "board.waits.median": "中央値",
    "board.waits.p90": "90パーセンタイル",
    "board.waits.target": "目標",
    "board.waits.over": "目標超過",
    "board.channel.caption": "チャネルの一時停止",
    "board.channel.channel": "チャネル",
    "board.channel.state": "状態",
    "board.channel.action": "操作",
    "board.channel.running": "受付中",
    "board.channel.pausedBy": "{name}さんが {since} から一時停止中",
    "board.channel.pausedSince": "{since} から一時停止中",
    "board.channel.pausedBadge": "一時停止中",
    "board.channel.pause": "一時停止",
    "board.channel.resume": "再開",
    "board.channel.pauseAria": "{channel}の割り振りを一時停止",
    "board.channel.resumeAria": "{channel}の割り振りを再開",
    "board.alert.none": "確認が必要なアラートはありません。",
    "board.alert.conversation": "相談 #{id}",
    "board.alert.conversationNamed": "{alias}（#{id}）",
    "board.alert.urgent": "緊急の相談（{category}）：{conv}",
    "board.alert.warning": "応答目標が近づいています：{conv}",
    "board.alert.breach": "応答目標を超えました：{conv}",
    "board.alert.failed": "返信を送れませんでした：{conv}",
    "board.alert.onCall": "当番の{name}さんに割り当てました：{conv}",
    "board.alert.other": "アラート：{conv}",
    "board.alert.ack": "確認済みにする",
    "board.alert.ackAria": "確認済みにする：{text}",
    "board.alert.ackedBy": "{name}さんが {at} に確認",
    "board.alert.doneSummary": "確認済み（{n} 件）",
  },

  en: {
    "lang.toggle": "日本語",
    "lang.toggleAria": "日本語に切り替える",

    "index.title": "Tsunagu",
    "index.heading": "Tsunagu",
    "index.lead": "You don't have to carry it alone. Write to us whenever you want to talk.",
    "index.chat": "Start a chat",
    "index.chatHint": "No name needed. You can stay anonymous.",
    "index.console": "Staff sign-in",
    "index.consoleHint": "For counselors",
    "index.emergency": "If your life is in danger, call 110 (police) or 119 (ambulance).",

    "chat.title": "Tsunagu chat",
    "chat.heading": "Tsunagu chat",
    "chat.quickExit": "Quick exit",
    "chat.noticeLabel": "Notice",
    "chat.noticeAnon": "You can stay anonymous. What you write is kept confidential.",
    "chat.noticeEmergency": "In an emergency call 110 (police) / 119 (ambulance).",
    "chat.noticeSettingsSummary": "About this device",
    "chat.noticeDevice":
      "Normally nothing of this conversation stays on this device once you close the tab. Tick “Keep this conversation on this device” to come back to it later from here; do not on a shared device. “Quick exit” replaces this page with another one, and the Back button does not return here.",
    "chat.status.connecting": "Connecting…",
    "chat.status.connected": "Connected",
    "chat.status.reconnecting": "Reconnecting…",
    "chat.messagesLabel": "Conversation",
    "chat.empty":
      "Write whatever you would like to talk about. A counselor will reply in turn. A reply may take a while.",
    "chat.me": "You",
    "chat.counselor": "Counselor",
    "chat.state.sending": "Sending…",
    "chat.state.sent": "Sent",
    "chat.state.failed": "Could not be sent",
    "chat.state.retry": "Busy right now. Will try again automatically…",
    "chat.failedEdit": "Edit again",
    "chat.inputLabel": "Message",
    "chat.inputPlaceholder": "Type a message (Enter to send, Shift+Enter for a new line)",
    "chat.send": "Send",
    "chat.queueStatus": "Where am I in line?",
    "chat.counter": "{n} characters left",
    "chat.counterOver": "{n} characters too many (max {max})",
    "chat.clear": "Clear history from this device",
    "chat.clearConfirm": "This removes the conversation from this device. It cannot be undone. Continue?",
    "chat.clearYes": "Clear",
    "chat.clearNo": "Cancel",
    "chat.cleared": "The history was removed from this device.",
    "chat.error.generic": "Something went wrong. Please try again later.",
    "chat.error.tooLarge": "Too long to send. Please split it into parts of up to 10,000 characters.",
    "chat.error.validation": "This message could not be sent.",
    "chat.error.rateLimited": "Sent too quickly; it will be sent again automatically in a moment…",
    "chat.error.dailyLimit": "No more messages can be sent today. Please write again tomorrow.",
    "chat.error.tooMany": "Too many requests in a row. Please wait a moment and try again.",
    "chat.earlier": "Load earlier messages",
    "chat.earlierLoading": "Loading…",
    "chat.hintKeys": "Enter to send · Shift+Enter for a new line",

    "console.title": "Tsunagu counselor console",
    "console.heading": "Tsunagu console",
    "console.status.connecting": "Connecting…",
    "console.status.connected": "Live",
    "console.status.reconnecting": "Reconnecting…",
    "console.status.offline": "Offline",
    "console.signout": "Sign out",
    "console.signedInAs": "Signed in as {name}",
    "login.heading": "Staff sign-in",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.submitting": "Signing in…",
    "login.required": "Enter your username and password.",
    "login.badCredentials": "Wrong username or password.",
    "login.tooMany": "Too many failed sign-ins. Please wait about {minutes} min and try again.",
    "login.expired": "Your session has ended. Please sign in again.",
    "login.signedOut": "You have signed out.",
    "queue.heading": "Queue",
    "queue.filter": "Show",
    "queue.filter.all": "All",
    "queue.filter.mine": "Mine",
    "queue.filter.unassigned": "Unassigned",
    "queue.empty": "Nothing needs attention right now.",
    "queue.refresh": "Refresh",
    "queue.mine": "Mine",
    "queue.priority": "Priority",
    "queue.waitingFor": "{d} since last message",
    "queue.noInbound": "No messages yet",
    "conv.empty": "Choose a conversation from the list.",
    "conv.back": "Back to list",
    "conv.loading": "Loading…",
    "conv.assignee": "Assignee",
    "conv.assignee.me": "Me",
    "conv.assignee.none": "Unassigned",
    "conv.claim": "Assign to me",
    "conv.close": "Close conversation",
    "conv.messagesLabel": "Messages",
    "conv.noMessages": "No messages yet.",
    "conv.from.inbound": "Consulter",
    "conv.from.outbound": "Counselor",
    "conv.from.note": "Internal note",
    "conv.author.me": "me",
    "conv.attachments": "Attachments",
    "conv.attachment.notStored": "not kept: over the size limit",
    "conv.replyLabel": "Reply",
    "conv.noteLabel": "Internal note (never sent to the consulter)",
    "conv.noteToggle": "Save as internal note",
    "conv.replyPlaceholder": "Write a reply to the consulter (Ctrl+Enter to send)",
    "conv.notePlaceholder": "Write an internal note (the consulter never sees it)",
    "conv.sendReply": "Send reply",
    "conv.saveNote": "Save note",
    "conv.sending": "Sending…",
    "conv.created": "Opened",
    "error.network": "Could not reach the server. Please check the connection.",
    "error.http": "Something went wrong ({status}).",
    "error.dismiss": "Dismiss",

    "status.queued": "Queued",
    "status.assigned": "Assigned",
    "status.waiting": "Waiting for consulter",
    "status.closed": "Closed",
    "channel.webchat": "Web chat",
    "channel.mail": "Email",
    "channel.sms": "SMS",
    "channel.line": "LINE",
    "channel.phone": "Phone",
    "delivery.received": "Received",
    "delivery.pending": "Pending",
    "delivery.sent": "Sent",
    "delivery.failed": "Failed",
    "delivery.none": "",
    "role.counselor": "Counselor",
    "role.supervisor": "Supervisor",
    "role.phone_staff": "Phone staff",
    "role.admin": "Admin",

    "dur.lessMinute": "<1 min",
    "dur.minutes": "{n} min",
    "dur.hours": "{h} h {m} min",
    "dur.days": "{d} d {h} h",

    // --- context: search, her history, closing with an outcome
    "search.heading": "Search conversations",
    "search.q": "Words",
    "search.qHint": "Words in a message (Japanese as written, without spaces)",
    "search.alias": "Consulter (alias)",
    "search.tag": "Tag",
    "search.status": "Status",
    "search.any": "Any",
    "search.channel": "Channel",
    "search.from": "Began on or after",
    "search.to": "Began on or before",
    "search.submit": "Search",
    "search.reset": "Clear",
    "search.results": "Search results",
    "search.more": "Show more",
    "search.needSomething": "Enter words or at least one condition.",
    "search.searching": "Searching…",
    "search.found": "{n} found.",
    "search.none": "Nothing found.",
    "search.recentOnly": "Words of one or two characters were looked for in the latest {n} messages only.",
    "history.heading": "Her earlier conversations",
    "history.summary": "Her earlier conversations ({n})",
    "history.more": "Earlier conversations",
    "history.returning": "Returning consulter",
    "history.returningBy": "Returning consulter · last helped by {name}",
    "history.current": "This one",
    "history.outcome": "Outcome",
    "history.handledBy": "Counselor",
    "history.nobody": "none",
    "history.messages": "Messages: {n}",
    "history.note": "Closing note",
    "history.read": "Read the messages",
    "history.older": "Read earlier messages",
    "history.messagesOf": "Messages of the conversation of {date}",
    "closing.heading": "Close this conversation",
    "closing.lead": "Record how it ended. Once closed, the reply box goes away.",
    "closing.outcome": "Outcome",
    "closing.note": "Note (optional, never sent to the consulter)",
    "closing.choose": "Choose one",
    "closing.cancel": "Cancel",
    "closing.confirm": "Close it",
    "closing.needOutcome": "Choose an outcome.",
    // --- desk: presence and load, names, tags, canned replies, error codes
    "desk.presence": "Presence",
    "desk.presence.available": "Available",
    "desk.presence.away": "Away",
    "desk.presence.offline": "Offline",
    "desk.presence.saved": "Presence set to {presence}",
    "desk.load": "{open} / {capacity}",
    "desk.loadLabel": "{open} open conversations (limit {capacity})",
    "conv.assignee.named": "{name}",
    "conv.assignee.unknown": "Another counselor",
    "conv.author.named": "{name}",
    "conv.author.unknown": "Staff",
    "tags.heading": "Tags",
    "tags.none": "No tags",
    "tags.edit": "Edit tags",
    "tags.choose": "Choose a tag",
    "tags.choosePlaceholder": "Choose…",
    "tags.free": "Free tag",
    "tags.freePlaceholder": "New tag",
    "tags.add": "Add",
    "tags.remove": "Remove tag “{tag}”",
    "tags.system": "Set by triage (cannot be removed)",
    "tags.saved": "Tags saved",
    "canned.open": "Canned replies",
    "canned.openHint": "Insert a canned reply (Ctrl+/ or “/” at the start)",
    "canned.dialog": "Choose a canned reply",
    "canned.filter": "Filter canned replies",
    "canned.filterPlaceholder": "Filter by title or text",
    "canned.empty": "No canned replies match.",
    "canned.help": "↑↓ to choose, Enter to insert, Esc to close.",
    "canned.close": "Close",
    "canned.editor": "Manage canned replies",
    "canned.editorOpen": "Manage canned replies",
    "canned.back": "Back to conversations",
    "canned.add": "Add a canned reply",
    "canned.edit": "Edit",
    "canned.delete": "Delete",
    "canned.confirmDelete": "Delete the canned reply “{title}”?",
    "canned.titleJa": "Title (Japanese)",
    "canned.titleEn": "Title (English)",
    "canned.bodyJa": "Text (Japanese)",
    "canned.bodyEn": "Text (English)",
    "canned.position": "Order",
    "canned.save": "Save",
    "canned.cancel": "Cancel",
    "canned.saved": "Canned reply saved",
    "canned.deleted": "Canned reply deleted",
    "canned.updatedBy": "Last edited by {name}",
    "canned.seeded": "Default",
    "canned.noTitle": "(no title)",
    "canned.listLabel": "Canned replies",
    "error.code.validation": "Please check what you entered.",
    "error.code.too_large": "Too long. Please shorten it.",
    "error.code.unauthenticated": "Please sign in.",
    "error.code.bad_credentials": "Wrong username or password.",
    "error.code.too_many_attempts": "Too many failed sign-ins. Please wait before trying again.",
    "error.code.csrf": "The request was refused. Please reload the page.",
    "error.code.origin": "This connection is not allowed.",
    "error.code.forbidden": "You do not have permission to do this.",
    "error.code.not_found": "Not found: it was removed, or you cannot see it.",
    "error.code.conflict": "It changed meanwhile, so this could not be done. Please refresh.",
    "error.code.reply_collision": "Another staff member replied first. Please check before sending.",
    "error.code.busy": "The server is busy. Please try again in a moment.",
    "error.code.database": "The database is unavailable. Please try again in a moment.",
    "error.field": " (field: {field})",
    "field.body": "text",
    "field.tags": "tags",
    "field.title_ja": "Title (Japanese)",
    "field.title_en": "Title (English)",
    "field.body_ja": "Text (Japanese)",
    "field.body_en": "Text (English)",
    "field.position": "Order",
    "field.presence": "Presence",
    "field.user_id": "assignee",
    "field.note": "note",
    "field.reason": "reason",
    "field.outcome": "outcome",
    "field.last_seen_message_id": "last message seen",
    "field.force": "send anyway",
    // --- live collaboration: typing, read state, no double replies, moving away
    "chat.typing": "A counselor is typing…",
    "live.viewing": "{names} also has this open",
    "live.typing": "{names} is typing…",
    "live.read": "Read",
    "live.collision": "{names} replied first. Send anyway?",
    "live.sendAnyway": "Send anyway",
    "live.dontSend": "Don't send",
    "live.movedTo": "Moved to {to} by {by}",
    "live.requeued": "Returned to the queue by {by}",
    "live.readOnly": "You can no longer reply here.",
    "live.someone": "a staff member",
    // --- safety: urgency the console shows and sounds
    "urgency.rules": "Needs a look",
    "urgency.generic": "Urgent",
    "urgency.badge": "Urgent: {category}",
    "urgent.title": "({n}) {title}",
    "urgent.alert": "Urgent message ({category}): {alias}",
    "urgent.breach": "Response target missed: {alias}",
    "urgent.assigned": "An urgent conversation is now yours ({category}): {alias}",
    "urgent.kind.breach": "Response target missed",
    "urgent.open": "Open",
    "urgent.dismiss": "Dismiss",
    "urgent.dismissAria": "Dismiss the alert for {alias}",
    "urgent.notifyTitle": "Tsunagu: please look now",
    "urgent.notifyEnable": "Turn on notifications",
    "urgent.notifyBlocked": "Notifications are blocked in the browser",
    "urgent.sound": "Sound",
    // --- chat: quick exit, hours, where she stands, the end of a conversation
    "chat.quickExitHint": "Replaces this page with another one at once. The Back button does not return here.",
    "chat.infoLabel": "Opening hours and your place",
    "chat.keep": "Keep this conversation on this device",
    "chat.automatic": "Automatic message",
    "conv.automatic": "Automatic message (system)",
    "chat.dividerEnded": "The earlier conversation ended here",
    "chat.ended": "This conversation has ended.",
    "chat.againAnytime": "Whenever you want to talk again, write here. We answer in turn.",
    "chat.againHours": "Whenever you want to talk again, write here. {hours}",
    "chat.today": "today {time}",
    "chat.tomorrow": "tomorrow {time}",
    "chat.hoursAlways": "Open 24 hours",
    "chat.hoursWeekly": "Hours: {weekly}",
    "chat.hoursWeeklyHolidays": "Hours: {weekly} (closed on public holidays and at New Year)",
    "chat.hoursOpenUntil": "· Open now, until {time}",
    "chat.hoursNext": "· Next opening: {time}",
    "chat.nextOpeningUnknown": "our next opening",
    "chat.waitMinutes": "about {n} min",
    "chat.waitHours": "about {n} h",
    "chat.standing.closedNow": "We are closed now. You can write now; a counselor will answer from {time}.",
    "chat.standing.withCounselor": "A counselor is with you.",
    "chat.standing.paused":
      "New conversations are paused for the moment. Your message is here; we will answer as soon as we resume.",
    "chat.standing.outsideHours": "We are closed now; a counselor will answer in turn from {time}.",
    "chat.standing.closed": "This conversation has ended.",
    "chat.standing.arrived": "Your message has arrived. A counselor will answer in turn.",
    "chat.standing.queued": "You are number {n} in line. A counselor will answer in turn.",
    "chat.standing.queuedWait": "You are number {n} in line ({wait}). A counselor will answer in turn.",
    // --- link: one consulter across channels (supervisors link her conversations)
    "link.number": "No. {id}",
    "link.open": "Link another conversation of hers",
    "link.lead":
      "Link only when you know it is the same person (nothing links by itself). Her conversations on every channel then show as one history, under one alias.",
    "link.other": "Number of the conversation to link",
    "link.otherHint": "Shown as “No.” when that conversation is open.",
    "link.reason": "Reason (kept in the audit log)",
    "link.submit": "Link",
    "link.confirm": "Link the consulter of conversation No. {id} to this consulter, as the same person?",
    "link.needNumber": "Enter the number of the conversation to link, in digits.",
    "link.needReason": "Enter why you link them.",
    "link.badOther": "That is this conversation, or one of hers already. Enter another conversation's number.",
    "link.notFound": "No conversation with that number was found.",
    "link.done": "Linked: {alias}'s conversations now show in {kept}'s history.",
    "field.conversation_id": "conversation number",
    // --- staff pages: the nav and the frame (lib/staff_page.js)
    "nav.label": "Staff pages",
    "nav.console": "Console",
    "nav.board": "Board",
    "nav.audit": "Audit log",
    "nav.accounts": "Accounts",
    "nav.denied": "Your role does not open this page. Choose one of your pages above.",
    "board.title": "Tsunagu supervisor board",
    "board.heading": "Tsunagu board",
    "board.alerts": "Alerts",
    "board.counselors": "Counselors",
    "board.queue": "Queue",
    "board.conversations": "Conversations to move",
    "audit.title": "Tsunagu audit log",
    "audit.heading": "Tsunagu audit log",
    "accounts.title": "Tsunagu accounts",
    "accounts.heading": "Tsunagu accounts",
    // --- board: the supervisor's live board (board/*.js)
    "board.conv.waitingHeading": "Waiting (urgent first, then the oldest)",
    "board.conv.waited": "waited {d}",
    "board.conv.dueIn": "target in {d}",
    "board.conv.overdue": "{d} past target",
    "board.conv.none": "Nothing is waiting.",
    "board.conv.count": "{n} waiting",
    "board.conv.capped": "{n} of {total} shown",
    "board.counselor.none": "No counselor is on shift or signed in.",
    "board.counselor.connected": "Connected",
    "board.counselor.disconnected": "Not connected",
    "board.counselor.load": "Load",
    "board.counselor.loadOf": "{load} of {capacity}",
    "board.counselor.byChannel": "By channel",
    "board.counselor.channelLoad": "{channel} {load}",
    "board.counselor.channelLoadCap": "{channel} {load}/{cap}",
    "board.counselor.shift": "Shift",
    "board.counselor.onShift": "On shift",
    "board.counselor.offShift": "Off shift",
    "board.counselor.lastAssigned": "Last assigned",
    "board.counselor.never": "never",
    "board.counselor.ago": "{d} ago",
    "board.counselor.targets": "Response targets",
    "board.counselor.targetsValue": "{soon} near, {over} missed",
    "board.counselor.conversationsOf": "{name}'s conversations",
    "board.queue.caption": "Queue ({n} waiting)",
    "board.queue.channel": "Channel",
    "board.queue.priority": "Priority",
    "board.queue.count": "Waiting",
    "board.queue.oldest": "Longest wait",
    "board.queue.urgent": "Urgent ({p})",
    "board.queue.normal": "Normal",
    "board.queue.empty": "Nothing is waiting.",
    "board.waits.heading": "Today's waits ({day}, Japan time)",
    "board.waits.count": "Conversations today",
    "board.waits.median": "Median",
    "board.waits.p90": "90th percentile",
    "board.waits.target": "Target",
    "board.waits.over": "Over target",
    "board.channel.caption": "Pausing channels",
    "board.channel.channel": "Channel",
    "board.channel.state": "State",
    "board.channel.action": "Action",
    "board.channel.running": "Routing",
    "board.channel.pausedBy": "Paused by {name} since {since}",
    "board.channel.pausedSince": "Paused since {since}",
    "board.channel.pausedBadge": "Paused",
    "board.channel.pause": "Pause",
    "board.channel.resume": "Resume",
    "board.channel.pauseAria": "Pause routing on {channel}",
    "board.channel.resumeAria": "Resume routing on {channel}",
    "board.alert.none": "No alert needs acknowledging.",
    "board.alert.conversation": "conversation #{id}",
    "board.alert.conversationNamed": "{alias} (#{id})",
    "board.alert.urgent": "Urgent ({category}): {conv}",
    "board.alert.warning": "Response target near: {conv}",
    "board.alert.breach": "Response target missed: {conv}",
    "board.alert.failed": "A reply could not be sent: {conv}",
    "board.alert.onCall": "Given to {name}, on call: {conv}",
    "board.alert.other": "Alert: {conv}",
    "board.alert.ack": "Acknowledge",
    "board.alert.ackAria": "Acknowledge: {text}",
    "board.alert.ackedBy": "Acknowledged by {name} at {at}",
    "board.alert.doneSummary": "Acknowledged ({n})",
  },
};

/** @param {string} key */
function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** @param {string} key @param {string} value */
function storageSet(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    /* private mode or storage disabled: keep going without it */
  }
}

/** @returns {Lang} */
function detectLang() {
  const saved = storageGet(LANG_KEY);
  if (saved === "ja" || saved === "en") return saved;
  const nav = (navigator.language || "").toLowerCase();
  return nav.startsWith("ja") ? "ja" : "en";
}

let current = detectLang();
/** @type {Set<(lang: Lang) => void>} */
const listeners = new Set();

export function getLang() {
  return current;
}

/**
 * Translate `key`, filling `{name}` placeholders from `params`. Unknown keys fall back to Japanese, then the key.
 * @param {string} key
 * @param {Record<string, unknown>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  const table = STRINGS[current] || STRINGS.ja;
  let s = key in table ? table[key] : key in STRINGS.ja ? STRINGS.ja[key] : key;
  for (const [k, v] of Object.entries(params)) {
    s = s.split(`{${k}}`).join(String(v));
  }
  return s;
}

/**
 * Apply translations to every element under `root` carrying data-i18n* attributes.
 * @param {ParentNode} [root]
 */
export function applyI18n(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.getAttribute("data-i18n") || "");
  }
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.setAttribute("placeholder", t(el.getAttribute("data-i18n-placeholder") || ""));
  }
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.getAttribute("data-i18n-aria-label") || ""));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) {
    el.setAttribute("title", t(el.getAttribute("data-i18n-title") || ""));
  }
  const titleKey = document.documentElement.dataset.i18nDocTitle;
  if (titleKey) document.title = t(titleKey);
}

/** @param {string} lang "ja" or "en"; anything else is ignored */
export function setLang(lang) {
  if (lang !== "ja" && lang !== "en") return;
  current = lang;
  storageSet(LANG_KEY, lang);
  applyI18n();
  for (const fn of listeners) fn(lang);
}

/** @param {(lang: Lang) => void} fn called after every language change */
export function onLangChange(fn) {
  listeners.add(fn);
}

/**
 * Wire a language toggle button: its label names the other language.
 * The label is written in the language it switches to, so it reads naturally for the person who needs it.
 * @param {HTMLElement} button
 */
export function bindLangToggle(button) {
  const render = () => {
    button.textContent = t("lang.toggle");
    button.setAttribute("aria-label", t("lang.toggleAria"));
    button.lang = current === "ja" ? "en" : "ja";
  };
  button.addEventListener("click", () => setLang(current === "ja" ? "en" : "ja"));
  onLangChange(render);
  render();
}

/**
 * Parse an ISO-8601 timestamp from the server; a value without a zone is taken as UTC.
 * @param {string | null | undefined} iso
 * @returns {Date | null}
 */
export function parseTime(iso) {
  if (!iso) return null;
  let s = String(iso);
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s = s.replace(" ", "T") + "Z";
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

function locale() {
  return current === "ja" ? "ja-JP" : "en-GB";
}

/** @param {Date} d */
function tokyoDayKey(d) {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: TIME_ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(d);
}

/**
 * Short time in Asia/Tokyo: "21:04" today, "3/14 21:04" on other days, with the year when it differs.
 * @param {Date | string | null | undefined} iso
 */
export function formatTime(iso) {
  const d = iso instanceof Date ? iso : parseTime(iso);
  if (!d) return "";
  const now = new Date();
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = { timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (tokyoDayKey(d) !== tokyoDayKey(now)) {
    opts.month = current === "ja" ? "numeric" : "short";
    opts.day = "numeric";
    const y = (/** @type {Date} */ x) => new Intl.DateTimeFormat("en", { timeZone: TIME_ZONE, year: "numeric" }).format(x);
    if (y(d) !== y(now)) opts.year = "numeric";
  }
  return new Intl.DateTimeFormat(locale(), opts).format(d);
}

/**
 * Full date and time in Asia/Tokyo, for a title/tooltip.
 * @param {Date | string | null | undefined} iso
 */
export function formatFullTime(iso) {
  const d = iso instanceof Date ? iso : parseTime(iso);
  if (!d) return "";
  return (
    new Intl.DateTimeFormat(locale(), {
      timeZone: TIME_ZONE,
      dateStyle: "medium",
      timeStyle: "short",
    }).format(d) + (current === "ja" ? "（日本時間）" : " JST")
  );
}

/** Human duration like "12分" / "3時間5分" / "2日4時間". @param {number} ms */
export function formatDuration(ms) {
  const mins = Math.max(0, Math.floor(ms / 60000));
  if (mins < 1) return t("dur.lessMinute");
  if (mins < 60) return t("dur.minutes", { n: mins });
  const hours = Math.floor(mins / 60);
  if (hours < 24) return t("dur.hours", { h: hours, m: mins % 60 });
  return t("dur.days", { d: Math.floor(hours / 24), h: hours % 24 });
}

/**
 * Localized label for an enum-ish value, e.g. label("status", "queued"); unknown values show as-is.
 * @param {string} group
 * @param {unknown} value
 */
export function label(group, value) {
  const key = `${group}.${value}`;
  const s = t(key);
  return s === key ? String(value ?? "") : s;
}

// Pages with no script of their own (the landing page) mark <html data-i18n-auto>:
// translate them and wire their #lang-toggle from here.
function autoInit() {
  if (!("i18nAuto" in document.documentElement.dataset)) return;
  applyI18n();
  const toggle = document.getElementById("lang-toggle");
  if (toggle) bindLangToggle(toggle);
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", autoInit);
  else autoInit();
}
