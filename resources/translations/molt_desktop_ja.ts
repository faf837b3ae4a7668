<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja">
<context>
    <name></name>
    <message>
        <source>The gateway is not reachable. It may be restarting; try again in a moment.</source>
        <translation>ゲートウェイに接続できません。再起動中の可能性があります。少し待ってから再試行してください。</translation>
    </message>
    <message>
        <source>The gateway refused this app&apos;s credentials. Check the gateway token in Settings.</source>
        <translation>ゲートウェイがこのアプリの認証情報を拒否しました。設定でゲートウェイトークンを確認してください。</translation>
    </message>
    <message>
        <source>The gateway could not do this right now: {detail}</source>
        <translation>ゲートウェイは現在この操作を実行できません: {detail}</translation>
    </message>
    <message>
        <source>The gateway rejected the request: {detail}</source>
        <translation>ゲートウェイがリクエストを拒否しました: {detail}</translation>
    </message>
    <message>
        <source>The gateway did not answer in time. Try again.</source>
        <translation>ゲートウェイが時間内に応答しませんでした。もう一度お試しください。</translation>
    </message>
    <message>
        <source>Something went wrong: {detail}</source>
        <translation>問題が発生しました: {detail}</translation>
    </message>
    <message>
        <source>The model provider is busy or over its rate limit. Wait a moment, then retry.</source>
        <translation>モデルプロバイダーが混雑しているか、レート制限を超えています。少し待ってから再試行してください。</translation>
    </message>
    <message>
        <source>The model took too long to answer. Retry, or pick a faster model.</source>
        <translation>モデルの応答に時間がかかりすぎました。再試行するか、より高速なモデルを選んでください。</translation>
    </message>
    <message>
        <source>This conversation is too long for the model. Start a new chat or pick a model with a larger context.</source>
        <translation>この会話はモデルにとって長すぎます。新しいチャットを始めるか、コンテキストの大きいモデルを選んでください。</translation>
    </message>
    <message>
        <source>The model declined to answer this message.</source>
        <translation>モデルはこのメッセージへの回答を拒否しました。</translation>
    </message>
    <message>
        <source>No gateway could finish this reply: the gateway in use stopped and no other one took it over. Retry when a gateway is reachable again.</source>
        <translation>この返信を完了できるゲートウェイがありません。使用中のゲートウェイが停止し、引き継げる別のゲートウェイもありませんでした。ゲートウェイに接続できるようになったら再試行してください。</translation>
    </message>
    <message>
        <source>The model provider cannot answer: {detail} Open Settings to fix the provider or pick another model.</source>
        <translation>モデルプロバイダーが応答できません: {detail} 設定を開いてプロバイダーを修正するか、別のモデルを選んでください。</translation>
    </message>
    <message>
        <source>The reply failed: {detail}</source>
        <translation>返信に失敗しました: {detail}</translation>
    </message>
    <message>
        <source>unknown error</source>
        <translation>不明なエラー</translation>
    </message>
    <message>
        <source>Gateway port in use</source>
        <translation>ゲートウェイのポートは使用中です</translation>
    </message>
    <message>
        <source>{reason}

molt-desktop can use another port instead. The port is saved in the settings; other devices that use this gateway need the new port too.

Port:</source>
        <translation>{reason}

molt-desktop は別のポートを使うことができます。ポートは設定に保存されます。このゲートウェイを使う他のデバイスも新しいポートに合わせる必要があります。

ポート:</translation>
    </message>
    <message>
        <source>Use this port</source>
        <translation>このポートを使用</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>終了</translation>
    </message>
    <message>
        <source>molt-desktop cannot start</source>
        <translation>molt-desktop を起動できません</translation>
    </message>
    <message>
        <source>The settings file has an error:

{error}

Fix the file, then start molt-desktop again.</source>
        <translation>設定ファイルにエラーがあります:

{error}

ファイルを修正してから、molt-desktop を再起動してください。</translation>
    </message>
    <message>
        <source>No system tray was found, so this window stays open: closing it quits molt-desktop.</source>
        <translation>システムトレイが見つからないため、このウィンドウは開いたままになります。閉じると molt-desktop は終了します。</translation>
    </message>
    <message>
        <source>molt-desktop is already running: its chat window is open now.</source>
        <translation>molt-desktop はすでに実行中です。チャットウィンドウを開きました。</translation>
    </message>
    <message>
        <source>Another molt-desktop is running with this state folder ({path}) but does not answer. Quit it (or end its process), then start again.</source>
        <translation>別の molt-desktop がこの状態フォルダー（{path}）を使用中ですが、応答がありません。それを終了する（またはプロセスを終了する）と、再度起動できます。</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新しいチャット</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>設定</translation>
    </message>
    <message>
        <source>The model that answers in this chat</source>
        <translation>このチャットで応答するモデル</translation>
    </message>
    <message>
        <source>{tokens} tokens</source>
        <translation>{tokens} トークン</translation>
    </message>
    <message>
        <source>{tokens} tokens · ${cost}</source>
        <translation>{tokens} トークン · ${cost}</translation>
    </message>
    <message>
        <source>Input tokens: {input}
Output tokens: {output}</source>
        <translation>入力トークン: {input}
出力トークン: {output}</translation>
    </message>
    <message>
        <source>Attach images</source>
        <translation>画像を添付</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.gif *.webp)</source>
        <translation>画像 (*.png *.jpg *.jpeg *.gif *.webp)</translation>
    </message>
    <message>
        <source>Write a message… (Enter sends, Shift+Enter adds a line)</source>
        <translation>メッセージを入力…（Enter で送信、Shift+Enter で改行）</translation>
    </message>
    <message>
        <source>Remove this image</source>
        <translation>この画像を削除</translation>
    </message>
    <message>
        <source>You</source>
        <translation>あなた</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>アシスタント</translation>
    </message>
    <message>
        <source>Copy this message as Markdown</source>
        <translation>このメッセージを Markdown としてコピー</translation>
    </message>
    <message>
        <source>via {name}</source>
        <translation>{name} 経由</translation>
    </message>
    <message>
        <source>Made on the gateway “{name}” ({url}) and copied into this computer&apos;s history.</source>
        <translation>ゲートウェイ「{name}」（{url}）で作成され、このコンピューターの履歴にコピーされました。</translation>
    </message>
    <message>
        <source>{input} in · {output} out</source>
        <translation>入力 {input} · 出力 {output}</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>考えています…</translation>
    </message>
    <message>
        <source>Preparing the conversation…</source>
        <translation>会話を準備しています…</translation>
    </message>
    <message>
        <source>Waiting for the model…</source>
        <translation>モデルの応答を待っています…</translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation>再接続しています…</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>停止しました</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>再試行</translation>
    </message>
    <message>
        <source>Open Settings</source>
        <translation>設定を開く</translation>
    </message>
    <message>
        <source>Start a new chat (Ctrl+N)</source>
        <translation>新しいチャットを開始 (Ctrl+N)</translation>
    </message>
    <message>
        <source>Attach an image (you can also paste or drop one)</source>
        <translation>画像を添付（貼り付けやドロップでも添付できます）</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>送信</translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation>送信 (Enter)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>応答を停止 (Esc)</translation>
    </message>
    <message>
        <source>{title} — molt-desktop</source>
        <translation>{title} — molt-desktop</translation>
    </message>
    <message>
        <source>The settings file has an error, so the last edit was not applied: {detail}</source>
        <translation>設定ファイルにエラーがあるため、最後の変更は適用されていません: {detail}</translation>
    </message>
    <message>
        <source>less than a minute</source>
        <translation>1 分未満</translation>
    </message>
    <message>
        <source>{minutes} min</source>
        <translation>{minutes} 分</translation>
    </message>
    <message>
        <source>{hours} h {minutes} min</source>
        <translation>{hours} 時間 {minutes} 分</translation>
    </message>
    <message>
        <source>{days} d {hours} h</source>
        <translation>{days} 日 {hours} 時間</translation>
    </message>
    <message>
        <source>Chats cannot be saved: the folder {path} is not writable.</source>
        <translation>チャットを保存できません: フォルダー {path} に書き込めません。</translation>
    </message>
    <message>
        <source>No model provider is set up, so chats cannot get replies.</source>
        <translation>モデルプロバイダーが設定されていないため、チャットに返信できません。</translation>
    </message>
    <message>
        <source>Chats cannot get replies: {problem}</source>
        <translation>チャットに返信できません: {problem}</translation>
    </message>
    <message>
        <source>never</source>
        <translation>未実施</translation>
    </message>
    <message>
        <source>molt-desktop — Health</source>
        <translation>molt-desktop — ヘルス</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>更新</translation>
    </message>
    <message>
        <source>Gateway</source>
        <translation>ゲートウェイ</translation>
    </message>
    <message>
        <source>Model provider</source>
        <translation>モデルプロバイダー</translation>
    </message>
    <message>
        <source>Remote gateways</source>
        <translation>リモートゲートウェイ</translation>
    </message>
    <message>
        <source>Gateway in use</source>
        <translation>使用中のゲートウェイ</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>アドレス</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>接続</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>稼働時間</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>バージョン</translation>
    </message>
    <message>
        <source>Last check</source>
        <translation>最終確認</translation>
    </message>
    <message>
        <source>Last error</source>
        <translation>直近のエラー</translation>
    </message>
    <message>
        <source>Default model</source>
        <translation>既定のモデル</translation>
    </message>
    <message>
        <source>Readiness</source>
        <translation>準備状況</translation>
    </message>
    <message>
        <source>Last chat error</source>
        <translation>直近のチャットエラー</translation>
    </message>
    <message>
        <source>Active gateway</source>
        <translation>使用中のゲートウェイ</translation>
    </message>
    <message>
        <source>Configured remotes</source>
        <translation>設定済みのリモート</translation>
    </message>
    <message>
        <source>Gateway settings…</source>
        <translation>ゲートウェイの設定…</translation>
    </message>
    <message>
        <source>Provider settings…</source>
        <translation>プロバイダーの設定…</translation>
    </message>
    <message>
        <source>Remote settings…</source>
        <translation>リモートの設定…</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状態</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>遅延</translation>
    </message>
    <message>
        <source>Connecting to the gateway…</source>
        <translation>ゲートウェイに接続しています…</translation>
    </message>
    <message>
        <source>Chats can get replies.</source>
        <translation>チャットは正常に返信を受け取れます。</translation>
    </message>
    <message>
        <source>{state}: {reason}</source>
        <translation>{state}: {reason}</translation>
    </message>
    <message>
        <source>Critical alert: {title}</source>
        <translation>重大なアラート：{title}</translation>
    </message>
    <message>
        <source>Warning: {title}</source>
        <translation>警告：{title}</translation>
    </message>
    <message>
        <source>Remote gateway ({name})</source>
        <translation>リモートゲートウェイ（{name}）</translation>
    </message>
    <message>
        <source>Local gateway (on this computer)</source>
        <translation>ローカルゲートウェイ（このコンピューター）</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>不明</translation>
    </message>
    <message>
        <source>Connected since {time}</source>
        <translation>{time} から接続中</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>接続中…</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>未接続</translation>
    </message>
    <message>
        <source>Connection lost: {error}</source>
        <translation>接続が切れました: {error}</translation>
    </message>
    <message>
        <source>Sync is not available in this app.</source>
        <translation>このアプリでは同期を利用できません。</translation>
    </message>
    <message>
        <source>Off — turn it on in the Sync settings.</source>
        <translation>オフ — 同期の設定でオンにしてください。</translation>
    </message>
    <message>
        <source>{state}: the next sync would archive {count} of the {total} files of this computer on the server. Use Sync now to confirm.</source>
        <translation>{state}：次の同期では、サーバー上にあるこのコンピューターの {total} 個のファイルのうち {count} 個がアーカイブされます。「今すぐ同期」で確認してください。</translation>
    </message>
    <message>
        <source>{time} — {error}</source>
        <translation>{time} — {error}</translation>
    </message>
    <message>
        <source>None</source>
        <translation>なし</translation>
    </message>
    <message>
        <source>Session sync</source>
        <translation>セッション同期</translation>
    </message>
    <message>
        <source>Last good sync</source>
        <translation>前回成功した同期</translation>
    </message>
    <message>
        <source>Next sync</source>
        <translation>次回の同期</translation>
    </message>
    <message>
        <source>Last run</source>
        <translation>前回の実行</translation>
    </message>
    <message>
        <source>Server host key</source>
        <translation>サーバーのホスト鍵</translation>
    </message>
    <message>
        <source>Sync settings…</source>
        <translation>同期の設定…</translation>
    </message>
    <message>
        <source>none configured</source>
        <translation>未設定</translation>
    </message>
    <message>
        <source>not checked yet</source>
        <translation>未確認</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>準備完了</translation>
    </message>
    <message>
        <source>Chat: {key}</source>
        <translation>チャット: {key}</translation>
    </message>
    <message>
        <source>No remote gateway configured.</source>
        <translation>リモートゲートウェイは設定されていません。</translation>
    </message>
    <message>
        <source>Local gateway</source>
        <translation>ローカルゲートウェイ</translation>
    </message>
    <message>
        <source>{name} (in use)</source>
        <translation>{name}（使用中）</translation>
    </message>
    <message>
        <source>{ms} ms</source>
        <translation>{ms} ミリ秒</translation>
    </message>
    <message>
        <source>Not checked yet</source>
        <translation>未確認</translation>
    </message>
    <message>
        <source>code</source>
        <translation>コード</translation>
    </message>
    <message>
        <source>Copy code</source>
        <translation>コードをコピー</translation>
    </message>
    <message>
        <source>Main session</source>
        <translation>メインセッション</translation>
    </message>
    <message>
        <source>Untitled session</source>
        <translation>無題のセッション</translation>
    </message>
    <message>
        <source>System</source>
        <translation>システム</translation>
    </message>
    <message>
        <source>Tool result</source>
        <translation>ツールの結果</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>メッセージ</translation>
    </message>
    <message>
        <source>[image]</source>
        <translation>[画像]</translation>
    </message>
    <message>
        <source>[tool call: {name}]</source>
        <translation>[ツール呼び出し: {name}]</translation>
    </message>
    <message>
        <source>Session: {key}</source>
        <translation>セッション: {key}</translation>
    </message>
    <message>
        <source>Exported: {time}</source>
        <translation>エクスポート日時: {time}</translation>
    </message>
    <message>
        <source>Markdown (readable)…</source>
        <translation>Markdown（読みやすい形式）…</translation>
    </message>
    <message>
        <source>JSON (chat history)…</source>
        <translation>JSON（チャット履歴）…</translation>
    </message>
    <message>
        <source>JSONL transcript (OpenClaw)…</source>
        <translation>JSONL 会話記録（OpenClaw）…</translation>
    </message>
    <message>
        <source>Markdown</source>
        <translation>Markdown</translation>
    </message>
    <message>
        <source>JSON</source>
        <translation>JSON</translation>
    </message>
    <message>
        <source>OpenClaw transcript</source>
        <translation>OpenClaw 会話記録</translation>
    </message>
    <message>
        <source>{name} ends in an unfinished line; it may have been copied while it was being written. Nothing was imported.</source>
        <translation>{name} の最後の行が途中で切れています。書き込み中にコピーされた可能性があります。何もインポートされませんでした。</translation>
    </message>
    <message>
        <source>Line {line} of {name} is not valid JSON. Nothing was imported.</source>
        <translation>{name} の {line} 行目は有効な JSON ではありません。何もインポートされませんでした。</translation>
    </message>
    <message>
        <source>{name} is not an OpenClaw transcript: its first line is not a session header. Nothing was imported.</source>
        <translation>{name} は OpenClaw の会話記録ではありません（1 行目がセッションヘッダーではありません）。何もインポートされませんでした。</translation>
    </message>
    <message>
        <source>{name} is empty. Nothing was imported.</source>
        <translation>{name} は空です。何もインポートされませんでした。</translation>
    </message>
    <message>
        <source>{name} is not a text file. Nothing was imported.</source>
        <translation>{name} はテキストファイルではありません。何もインポートされませんでした。</translation>
    </message>
    <message>
        <source>{name} could not be read: {error}</source>
        <translation>{name} を読み込めませんでした: {error}</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>エクスポート…</translation>
    </message>
    <message numerus="yes">
        <source>Export %n sessions…</source>
        <translation>
            <numerusform>%n 件のセッションをエクスポート…</numerusform>
        </translation>
    </message>
    <message>
        <source>Import a transcript (JSONL)…</source>
        <translation>会話記録をインポート（JSONL）…</translation>
    </message>
    <message>
        <source>Import from OpenClaw / Clawdbot folder…</source>
        <translation>OpenClaw / Clawdbot フォルダーからインポート…</translation>
    </message>
    <message>
        <source>Export session</source>
        <translation>セッションをエクスポート</translation>
    </message>
    <message>
        <source>Import a transcript</source>
        <translation>会話記録をインポート</translation>
    </message>
    <message>
        <source>Import from an OpenClaw / Clawdbot folder</source>
        <translation>OpenClaw / Clawdbot フォルダーからインポート</translation>
    </message>
    <message numerus="yes">
        <source>Export %n sessions into a folder</source>
        <translation>
            <numerusform>%n 件のセッションをフォルダーにエクスポート</numerusform>
        </translation>
    </message>
    <message>
        <source>Exported to {path}.</source>
        <translation>{path} にエクスポートしました。</translation>
    </message>
    <message numerus="yes">
        <source>Exported %n sessions to {folder}.</source>
        <translation>
            <numerusform>%n 件のセッションを {folder} にエクスポートしました。</numerusform>
        </translation>
    </message>
    <message>
        <source>“{title}” was not exported: {reason}</source>
        <translation>「{title}」をエクスポートできませんでした: {reason}</translation>
    </message>
    <message>
        <source>“{title}” is long: only its latest 1000 messages were exported.</source>
        <translation>「{title}」は長いため、最新の 1000 件のメッセージのみをエクスポートしました。</translation>
    </message>
    <message>
        <source>Importing works with this computer&apos;s own gateway only. Switch to the local gateway, then try again.</source>
        <translation>インポートはこのコンピューター上のゲートウェイでのみ行えます。ローカルゲートウェイに切り替えてから、もう一度お試しください。</translation>
    </message>
    <message>
        <source>The transcript could not be imported: {error}. Nothing was changed.</source>
        <translation>会話記録をインポートできませんでした: {error}。何も変更されていません。</translation>
    </message>
    <message>
        <source>Imported {name} as a new session.</source>
        <translation>{name} を新しいセッションとしてインポートしました。</translation>
    </message>
    <message>
        <source>{folder} could not be imported: {error}</source>
        <translation>{folder} をインポートできませんでした: {error}</translation>
    </message>
    <message>
        <source>Imported one session from {folder}.</source>
        <translation>{folder} から 1 件のセッションをインポートしました。</translation>
    </message>
    <message numerus="yes">
        <source>Imported %n sessions from {folder}.</source>
        <translation>
            <numerusform>{folder} から %n 件のセッションをインポートしました。</numerusform>
        </translation>
    </message>
    <message>
        <source>One session was already here and was left as it is.</source>
        <translation>1 件のセッションはすでに存在するため、そのままにしました。</translation>
    </message>
    <message numerus="yes">
        <source>%n sessions were already here and were left as they are.</source>
        <translation>
            <numerusform>%n 件のセッションはすでに存在するため、そのままにしました。</numerusform>
        </translation>
    </message>
    <message>
        <source>No session matches “{query}”.</source>
        <translation>「{query}」に一致するセッションはありません。</translation>
    </message>
    <message>
        <source>No chats yet. Start one with New chat.</source>
        <translation>まだチャットはありません。「新しいチャット」から始めましょう。</translation>
    </message>
    <message>
        <source>Delete “{title}”?</source>
        <translation>「{title}」を削除しますか？</translation>
    </message>
    <message numerus="yes">
        <source>Delete %n sessions?</source>
        <translation>
            <numerusform>%n 件のセッションを削除しますか？</numerusform>
        </translation>
    </message>
    <message>
        <source>Delete sessions</source>
        <translation>セッションの削除</translation>
    </message>
    <message>
        <source>It disappears from the list. Its transcript is archived in the sessions folder (renamed to end in “.deleted”), not destroyed.</source>
        <translation>一覧からは消えます。会話記録はセッションフォルダーにアーカイブされ（ファイル名の末尾が「.deleted」になります）、破棄されません。</translation>
    </message>
    <message>
        <source>They disappear from the list. Their transcripts are archived in the sessions folder (renamed to end in “.deleted”), not destroyed.</source>
        <translation>一覧からは消えます。会話記録はセッションフォルダーにアーカイブされ（ファイル名の末尾が「.deleted」になります）、破棄されません。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>削除</translation>
    </message>
    <message>
        <source>The main session cannot be deleted. You can rename or export it instead.</source>
        <translation>メインセッションは削除できません。代わりに名前の変更やエクスポートができます。</translation>
    </message>
    <message>
        <source>Import and export</source>
        <translation>インポートとエクスポート</translation>
    </message>
    <message>
        <source>Search chats</source>
        <translation>チャットを検索</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>名前を変更</translation>
    </message>
    <message>
        <source>Pin to top</source>
        <translation>先頭に固定</translation>
    </message>
    <message>
        <source>Unpin</source>
        <translation>固定を解除</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>削除…</translation>
    </message>
    <message>
        <source>just now</source>
        <translation>たった今</translation>
    </message>
    <message numerus="yes">
        <source>%n min ago</source>
        <translation>
            <numerusform>%n 分前</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n h ago</source>
        <translation>
            <numerusform>%n 時間前</numerusform>
        </translation>
    </message>
    <message>
        <source>yesterday</source>
        <translation>昨日</translation>
    </message>
    <message numerus="yes">
        <source>%n days ago</source>
        <translation>
            <numerusform>%n 日前</numerusform>
        </translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <source>Stored in the keyring; type a new value to replace it</source>
        <translation>キーリングに保存済みです。新しい値を入力すると置き換えます</translation>
    </message>
    <message>
        <source>Saved in the config file; type a new value to move it to the keyring</source>
        <translation>設定ファイルに保存されています。新しい値を入力するとキーリングに移します</translation>
    </message>
    <message>
        <source>Read from the environment variable {name}</source>
        <translation>環境変数 {name} から読み込みます</translation>
    </message>
    <message>
        <source>Not set</source>
        <translation>未設定</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>隠す</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>表示</translation>
    </message>
    <message>
        <source>Show or hide the secret</source>
        <translation>シークレットの表示／非表示</translation>
    </message>
    <message>
        <source>Anthropic Messages API</source>
        <translation>Anthropic Messages API</translation>
    </message>
    <message>
        <source>OpenAI-compatible (chat completions)</source>
        <translation>OpenAI 互換（チャット補完）</translation>
    </message>
    <message>
        <source>OK, answered in {ms} ms</source>
        <translation>OK、{ms} ミリ秒で応答しました</translation>
    </message>
    <message>
        <source>The provider refused the API key.</source>
        <translation>プロバイダーが API キーを拒否しました。</translation>
    </message>
    <message>
        <source>The provider cannot be reached. Check the base URL and the network.</source>
        <translation>プロバイダーに接続できません。ベース URL とネットワークを確認してください。</translation>
    </message>
    <message>
        <source>The provider did not answer in time.</source>
        <translation>プロバイダーが時間内に応答しませんでした。</translation>
    </message>
    <message>
        <source>The provider is rate limiting requests; the key and URL work.</source>
        <translation>プロバイダーがリクエストを制限しています。キーと URL は有効です。</translation>
    </message>
    <message>
        <source>The provider is overloaded right now; the key and URL work.</source>
        <translation>プロバイダーは現在過負荷です。キーと URL は有効です。</translation>
    </message>
    <message>
        <source>The provider settings are incomplete.</source>
        <translation>プロバイダーの設定が不完全です。</translation>
    </message>
    <message>
        <source>The provider rejected the request. Check the API kind and the model id.</source>
        <translation>プロバイダーがリクエストを拒否しました。API の種類とモデル ID を確認してください。</translation>
    </message>
    <message>
        <source>The provider had an internal error. Try again later.</source>
        <translation>プロバイダーで内部エラーが発生しました。しばらくしてから再試行してください。</translation>
    </message>
    <message>
        <source>The test request failed.</source>
        <translation>テストリクエストが失敗しました。</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <source>Enter an http:// or https:// base URL.</source>
        <translation>http:// または https:// のベース URL を入力してください。</translation>
    </message>
    <message>
        <source>Enter the model id to use.</source>
        <translation>使用するモデル ID を入力してください。</translation>
    </message>
    <message>
        <source>Paste the API key of the provider.</source>
        <translation>プロバイダーの API キーを貼り付けてください。</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>保存しています…</translation>
    </message>
    <message>
        <source>Nothing was saved: the system keyring cannot store secrets, and secrets are never written into the config file.
{detail}</source>
        <translation>何も保存されていません。システムのキーリングにシークレットを保存できず、シークレットを設定ファイルに書き込むことはありません。
{detail}</translation>
    </message>
    <message>
        <source>The settings changed meanwhile. Press Save again.</source>
        <translation>その間に設定が変更されました。もう一度「保存」を押してください。</translation>
    </message>
    <message>
        <source>Saved. You can chat now.</source>
        <translation>保存しました。チャットを始められます。</translation>
    </message>
    <message>
        <source>Welcome to molt-desktop</source>
        <translation>molt-desktop へようこそ</translation>
    </message>
    <message>
        <source>Connect a model provider</source>
        <translation>モデルプロバイダーに接続</translation>
    </message>
    <message>
        <source>Chats are answered by a model provider. Pick yours, paste its API key and choose a model. The key is kept in the system keyring. You can change all of this later in Settings.</source>
        <translation>チャットにはモデルプロバイダーが応答します。プロバイダーを選び、API キーを貼り付けてモデルを選んでください。キーはシステムのキーリングに保存されます。これらは後から「設定」でいつでも変更できます。</translation>
    </message>
    <message>
        <source>Base URL</source>
        <translation>ベース URL</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API キー</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>プロバイダー</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>モデル</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Skip</source>
        <translation>スキップ</translation>
    </message>
    <message>
        <source>Where do I get a key?</source>
        <translation>キーの入手方法は？</translation>
    </message>
    <message>
        <source>Providers</source>
        <translation>プロバイダー</translation>
    </message>
    <message>
        <source>Use letters, digits, - and _ only (it becomes part of provider/model).</source>
        <translation>使えるのは英字、数字、- と _ だけです（provider/model の一部になります）。</translation>
    </message>
    <message>
        <source>Another provider already has this name.</source>
        <translation>このプロバイダー名はすでに使われています。</translation>
    </message>
    <message>
        <source>Enter an http:// or https:// address, e.g. {example}.</source>
        <translation>http:// または https:// のアドレスを入力してください（例: {example}）。</translation>
    </message>
    <message>
        <source>Every model needs an id.</source>
        <translation>すべてのモデルに ID が必要です。</translation>
    </message>
    <message>
        <source>Type the API key again: a key saved in the config file cannot move to a new provider name.</source>
        <translation>API キーをもう一度入力してください。設定ファイルに保存されたキーは新しいプロバイダー名に移せません。</translation>
    </message>
    <message>
        <source>Enter an http:// or https:// base URL first.</source>
        <translation>先に http:// または https:// のベース URL を入力してください。</translation>
    </message>
    <message>
        <source>The saved key cannot be read back from the config file. Type it to test.</source>
        <translation>保存済みのキーは設定ファイルから読み戻せません。テストするにはキーを入力してください。</translation>
    </message>
    <message>
        <source>Test with model:</source>
        <translation>テストするモデル:</translation>
    </message>
    <message>
        <source>Testing {model}…</source>
        <translation>{model} をテストしています…</translation>
    </message>
    <message>
        <source>Model providers answer the chats. Add one from a preset, paste its API key, and press Test. Keys are kept in the system keyring, never in the config file.</source>
        <translation>チャットに応答するのはモデルプロバイダーです。プリセットから追加し、API キーを貼り付けて「テスト」を押してください。キーはシステムのキーリングに保存され、設定ファイルには書き込まれません。</translation>
    </message>
    <message>
        <source>No provider yet: use Add to pick one.</source>
        <translation>プロバイダーがまだありません。「追加」から選んでください。</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>ポート</translation>
    </message>
    <message>
        <source>Who can connect</source>
        <translation>接続できる相手</translation>
    </message>
    <message>
        <source>Gateway token</source>
        <translation>ゲートウェイトークン</translation>
    </message>
    <message>
        <source>Not available here</source>
        <translation>ここでは利用できません</translation>
    </message>
    <message>
        <source>Other computers may only connect with a token or password: set gateway.auth.mode to token first.</source>
        <translation>他のコンピューターはトークンかパスワードでのみ接続できます。先に gateway.auth.mode を token に設定してください。</translation>
    </message>
    <message>
        <source>Anyone on your network can reach the gateway at this port. They still need the gateway token; keep it secret, and prefer a trusted network.</source>
        <translation>ネットワーク上の誰でもこのポートでゲートウェイに到達できます。ゲートウェイトークンは引き続き必要です。トークンを秘密にし、信頼できるネットワークを使ってください。</translation>
    </message>
    <message>
        <source>The token is on the clipboard.</source>
        <translation>トークンをクリップボードにコピーしました。</translation>
    </message>
    <message>
        <source>Regenerate the gateway token?</source>
        <translation>ゲートウェイトークンを再生成しますか？</translation>
    </message>
    <message>
        <source>A new random token replaces the current one at once. Every other client of this gateway (other computers, the openclaw CLI, scripts) must be given the new token.</source>
        <translation>新しいランダムなトークンが現在のトークンをすぐに置き換えます。このゲートウェイの他のすべてのクライアント（他のコンピューター、openclaw CLI、スクリプト）に新しいトークンを設定する必要があります。</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>再生成</translation>
    </message>
    <message>
        <source>The new token was not saved: {error}</source>
        <translation>新しいトークンは保存されませんでした: {error}</translation>
    </message>
    <message>
        <source>New token saved. Other clients of this gateway need the new token now.</source>
        <translation>新しいトークンを保存しました。このゲートウェイの他のクライアントには新しいトークンが必要です。</translation>
    </message>
    <message>
        <source>Only this computer (loopback)</source>
        <translation>このコンピューターのみ（ループバック）</translation>
    </message>
    <message>
        <source>Other computers on the network (LAN)</source>
        <translation>ネットワーク上の他のコンピューター（LAN）</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>コピー</translation>
    </message>
    <message>
        <source>Changes of the port or of who can connect take effect after molt-desktop restarts.</source>
        <translation>ポートや接続できる範囲の変更は、molt-desktop の再起動後に有効になります。</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>トークン</translation>
    </message>
    <message>
        <source>TLS fingerprint</source>
        <translation>TLS フィンガープリント</translation>
    </message>
    <message>
        <source>Give the remote gateway a name.</source>
        <translation>リモートゲートウェイに名前を付けてください。</translation>
    </message>
    <message>
        <source>Enter a ws:// or wss:// address, e.g. {example}.</source>
        <translation>ws:// または wss:// のアドレスを入力してください（例: {example}）。</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>追加</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>削除</translation>
    </message>
    <message>
        <source>Other OpenAI-compatible provider</source>
        <translation>その他の OpenAI 互換プロバイダー</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>モデル</translation>
    </message>
    <message>
        <source>Model id</source>
        <translation>モデル ID</translation>
    </message>
    <message>
        <source>Display name</source>
        <translation>表示名</translation>
    </message>
    <message>
        <source>Context window</source>
        <translation>コンテキストウィンドウ</translation>
    </message>
    <message>
        <source>Max output tokens</source>
        <translation>最大出力トークン</translation>
    </message>
    <message>
        <source>Add model</source>
        <translation>モデルを追加</translation>
    </message>
    <message>
        <source>Remove model</source>
        <translation>モデルを削除</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>テスト</translation>
    </message>
    <message>
        <source>Send one tiny request with this URL, key and model</source>
        <translation>この URL、キー、モデルでごく小さなリクエストを 1 回送信します</translation>
    </message>
    <message>
        <source>Replying</source>
        <translation>返信中</translation>
    </message>
    <message>
        <source>Needs attention</source>
        <translation>要確認</translation>
    </message>
    <message>
        <source>Gateway not reachable</source>
        <translation>ゲートウェイに接続できません</translation>
    </message>
    <message>
        <source>Using a remote gateway</source>
        <translation>リモートゲートウェイを使用中</translation>
    </message>
    <message>
        <source>Open chat</source>
        <translation>チャットを開く</translation>
    </message>
    <message>
        <source>Recent chats</source>
        <translation>最近のチャット</translation>
    </message>
    <message>
        <source>Gateway status</source>
        <translation>ゲートウェイの状態</translation>
    </message>
    <message>
        <source>Sync now</source>
        <translation>今すぐ同期</translation>
    </message>
    <message>
        <source>Health…</source>
        <translation>ヘルス…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>設定…</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>言語</translation>
    </message>
    <message>
        <source>Start at login</source>
        <translation>ログイン時に起動</translation>
    </message>
    <message>
        <source>Start minimised</source>
        <translation>最小化して起動</translation>
    </message>
    <message>
        <source>Close to tray</source>
        <translation>閉じるとトレイに格納</translation>
    </message>
    <message>
        <source>General</source>
        <translation>一般</translation>
    </message>
    <message>
        <source>Automatic (system language)</source>
        <translation>自動（システムの言語）</translation>
    </message>
    <message>
        <source>Secrets</source>
        <translation>シークレット</translation>
    </message>
    <message>
        <source>Checking the system keyring…</source>
        <translation>システムのキーリングを確認しています…</translation>
    </message>
    <message>
        <source>API keys, tokens and passwords are kept in the system keyring ({backend}).</source>
        <translation>API キー、トークン、パスワードはシステムのキーリング（{backend}）に保存されます。</translation>
    </message>
    <message>
        <source>Secrets are kept by {backend}, which stores them unencrypted on disk.</source>
        <translation>シークレットは {backend} によって保存され、ディスク上に暗号化されずに保存されます。</translation>
    </message>
    <message>
        <source>No system keyring is available, so API keys, tokens and passwords cannot be saved. Start GNOME Keyring or KWallet (or another Secret Service) and open the settings again.</source>
        <translation>システムのキーリングが利用できないため、API キー、トークン、パスワードを保存できません。GNOME Keyring または KWallet（または他の Secret Service）を起動してから、設定を開き直してください。</translation>
    </message>
    <message>
        <source>Automatic (system)</source>
        <translation>自動（システムに従う）</translation>
    </message>
    <message>
        <source>Quit molt-desktop</source>
        <translation>molt-desktop を終了</translation>
    </message>
    <message>
        <source>No chats yet</source>
        <translation>まだチャットはありません</translation>
    </message>
    <message>
        <source>Address: {address}</source>
        <translation>アドレス: {address}</translation>
    </message>
    <message>
        <source>Up for {duration}</source>
        <translation>稼働時間: {duration}</translation>
    </message>
    <message>
        <source>Not connected: {error}</source>
        <translation>未接続: {error}</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>詳細</translation>
    </message>
    <message>
        <source>Show the health of every gateway</source>
        <translation>すべてのゲートウェイの状態を表示</translation>
    </message>
    <message>
        <source>connecting…</source>
        <translation>接続中…</translation>
    </message>
    <message>
        <source>The gateway has stopped.</source>
        <translation>ゲートウェイは停止しました。</translation>
    </message>
    <message>
        <source>Cannot reach the gateway at {address} ({error}). Retrying.</source>
        <translation>{address} のゲートウェイに接続できません（{error}）。再試行しています。</translation>
    </message>
    <message>
        <source>A reply is streaming.</source>
        <translation>返信を受信中です。</translation>
    </message>
    <message>
        <source>{count} replies are streaming.</source>
        <translation>{count} 件の返信を受信中です。</translation>
    </message>
    <message>
        <source>The local gateway is running at {address}.</source>
        <translation>ローカルゲートウェイは {address} で動作中です。</translation>
    </message>
    <message>
        <source>molt-desktop — Critical alert: {title}</source>
        <translation>molt-desktop — 重大なアラート：{title}</translation>
    </message>
    <message>
        <source>molt-desktop — Warning: {title}</source>
        <translation>molt-desktop — 警告：{title}</translation>
    </message>
    <message>
        <source>molt-desktop — {reason}</source>
        <translation>molt-desktop — {reason}</translation>
    </message>
    <message>
        <source>molt-desktop — {state}: {reason}</source>
        <translation>molt-desktop — {state}: {reason}</translation>
    </message>
    <message>
        <source>The config file has errors; saving is refused until they are fixed in the file ({path}).</source>
        <translation>設定ファイルにエラーがあります。ファイル（{path}）で修正するまで保存できません。</translation>
    </message>
    <message>
        <source>Nothing was saved. Fix the marked settings, then save again.</source>
        <translation>何も保存されていません。印の付いた設定を修正してから、もう一度保存してください。</translation>
    </message>
    <message>
        <source>Nothing to save: no setting was changed.</source>
        <translation>保存するものはありません。設定は変更されていません。</translation>
    </message>
    <message>
        <source>The settings were changed elsewhere while this window was open. They have been loaded again: check them and save again.</source>
        <translation>このウィンドウを開いている間に、設定が別の場所で変更されました。読み込み直したので、確認してからもう一度保存してください。</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>保存しました。</translation>
    </message>
    <message>
        <source>Start at login could not be changed: {error}</source>
        <translation>ログイン時の起動を変更できませんでした: {error}</translation>
    </message>
    <message>
        <source>The settings cannot be read: {error}</source>
        <translation>設定を読み込めません: {error}</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>適用</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>Check and save the settings, then close</source>
        <translation>設定を確認して保存し、閉じます</translation>
    </message>
    <message>
        <source>Check and save the settings</source>
        <translation>設定を確認して保存します</translation>
    </message>
    <message>
        <source>Fallbacks</source>
        <translation>フォールバック</translation>
    </message>
    <message>
        <source>Write the model as provider/modelId, e.g. {example}.</source>
        <translation>モデルは provider/modelId の形式で入力してください（例: {example}）。</translation>
    </message>
    <message>
        <source>There is no provider named {name}. Add it on the Providers page.</source>
        <translation>{name} という名前のプロバイダーはありません。「プロバイダー」ページで追加してください。</translation>
    </message>
    <message>
        <source>Up</source>
        <translation>上へ</translation>
    </message>
    <message>
        <source>Down</source>
        <translation>下へ</translation>
    </message>
    <message>
        <source>Sync sessions</source>
        <translation>セッションを同期</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>サーバー</translation>
    </message>
    <message>
        <source>Share</source>
        <translation>共有</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>ユーザー名</translation>
    </message>
    <message>
        <source>SSH key file</source>
        <translation>SSH 鍵ファイル</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>パスワード</translation>
    </message>
    <message>
        <source>This computer&apos;s name</source>
        <translation>このコンピューターの名前</translation>
    </message>
    <message>
        <source>Enter the name of the share on the server.</source>
        <translation>サーバー上の共有名を入力してください。</translation>
    </message>
    <message>
        <source>Choose the mounted folder to sync with.</source>
        <translation>同期するマウント済みフォルダーを選んでください。</translation>
    </message>
    <message>
        <source>… and {count} more</source>
        <translation>… ほか {count} 個</translation>
    </message>
    <message>
        <source>Connected. Device folders there:</source>
        <translation>接続しました。そこにあるデバイスフォルダー：</translation>
    </message>
    <message>
        <source>Connected. The folder has no device folders yet: the first sync creates this computer&apos;s.</source>
        <translation>接続しました。フォルダーにはまだデバイスフォルダーがありません。最初の同期でこのコンピューターのフォルダーが作成されます。</translation>
    </message>
    <message>
        <source>The test failed: {error}</source>
        <translation>テストに失敗しました：{error}</translation>
    </message>
    <message>
        <source>Server host key: {fingerprint}</source>
        <translation>サーバーのホスト鍵：{fingerprint}</translation>
    </message>
    <message>
        <source>Turn sync on and save the settings first.</source>
        <translation>先に同期をオンにして設定を保存してください。</translation>
    </message>
    <message>
        <source>e.g. /mnt/backup/molt</source>
        <translation>例：/mnt/backup/molt</translation>
    </message>
    <message>
        <source>Default ({port})</source>
        <translation>既定（{port}）</translation>
    </message>
    <message>
        <source>Folder on the server</source>
        <translation>サーバー上のフォルダー</translation>
    </message>
    <message>
        <source>Choose the mounted folder</source>
        <translation>マウント済みフォルダーを選択</translation>
    </message>
    <message>
        <source>SFTP (SSH)</source>
        <translation>SFTP（SSH）</translation>
    </message>
    <message>
        <source>SMB (Windows share)</source>
        <translation>SMB（Windows 共有）</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>接続をテスト</translation>
    </message>
    <message>
        <source>Connect with the settings shown (saved or not) and list the folder</source>
        <translation>表示中の設定（保存済みかどうかを問わず）で接続し、フォルダーを一覧表示します</translation>
    </message>
    <message>
        <source>Interval (seconds)</source>
        <translation>間隔（秒）</translation>
    </message>
    <message>
        <source>Sync on change</source>
        <translation>変更時に同期</translation>
    </message>
    <message>
        <source>Sync</source>
        <translation>同期</translation>
    </message>
    <message>
        <source>Enter the server to sync with, or turn sync off.</source>
        <translation>同期するサーバーを入力するか、同期をオフにしてください。</translation>
    </message>
    <message>
        <source>Folder inside the share</source>
        <translation>共有内のフォルダー</translation>
    </message>
    <message>
        <source>Mounted folder</source>
        <translation>マウント済みフォルダー</translation>
    </message>
    <message>
        <source>Choose the SSH private key</source>
        <translation>SSH 秘密鍵を選択</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>参照…</translation>
    </message>
    <message>
        <source>Desktop notifications</source>
        <translation>デスクトップ通知</translation>
    </message>
    <message>
        <source>Send e-mails</source>
        <translation>メールを送信</translation>
    </message>
    <message>
        <source>SMTP server</source>
        <translation>SMTP サーバー</translation>
    </message>
    <message>
        <source>From</source>
        <translation>差出人</translation>
    </message>
    <message>
        <source>To</source>
        <translation>宛先</translation>
    </message>
    <message>
        <source>Post to a webhook</source>
        <translation>Webhook に送信</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>形式</translation>
    </message>
    <message>
        <source>Signing secret</source>
        <translation>署名シークレット</translation>
    </message>
    <message>
        <source>CPU warning</source>
        <translation>CPU 警告</translation>
    </message>
    <message>
        <source>CPU critical</source>
        <translation>CPU 重大</translation>
    </message>
    <message>
        <source>Memory critical</source>
        <translation>メモリ重大</translation>
    </message>
    <message>
        <source>Model error rate critical</source>
        <translation>モデルのエラー率 重大</translation>
    </message>
    <message>
        <source>Check every (seconds)</source>
        <translation>チェック間隔（秒）</translation>
    </message>
    <message>
        <source>Alerts</source>
        <translation>アラート</translation>
    </message>
    <message>
        <source>Enter an http:// or https:// address.</source>
        <translation>http:// または https:// のアドレスを入力してください。</translation>
    </message>
    <message>
        <source>E-mail alerts need an SMTP server and at least one recipient.</source>
        <translation>メールアラートには SMTP サーバーと少なくとも 1 人の宛先が必要です。</translation>
    </message>
    <message>
        <source>Write the server as host:port, e.g. {example}.</source>
        <translation>サーバーは host:port の形式で入力してください（例: {example}）。</translation>
    </message>
    <message>
        <source>Desktop</source>
        <translation>デスクトップ</translation>
    </message>
    <message>
        <source>Critical</source>
        <translation>重大</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <source>Info</source>
        <translation>情報</translation>
    </message>
    <message>
        <source>Fired</source>
        <translation>発生</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>解消</translation>
    </message>
    <message>
        <source>Still firing</source>
        <translation>継続中</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>メール</translation>
    </message>
    <message>
        <source>Webhook</source>
        <translation>Webhook</translation>
    </message>
    <message>
        <source>Tray icon</source>
        <translation>トレイアイコン</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>オフ</translation>
    </message>
    <message>
        <source>Not used yet</source>
        <translation>未使用</translation>
    </message>
    <message>
        <source>Working</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>Failing ({count} times in a row)</source>
        <translation>失敗（{count} 回連続）</translation>
    </message>
    <message>
        <source>Failing</source>
        <translation>失敗</translation>
    </message>
    <message>
        <source>No alert is firing.</source>
        <translation>発生中のアラートはありません。</translation>
    </message>
    <message>
        <source>Recent alerts</source>
        <translation>最近のアラート</translation>
    </message>
    <message>
        <source>No alerts so far.</source>
        <translation>これまでにアラートはありません。</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>重大度</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>発生時刻</translation>
    </message>
    <message>
        <source>Alert</source>
        <translation>アラート</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>時刻</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>イベント</translation>
    </message>
    <message>
        <source>{time} ({duration})</source>
        <translation>{time}（{duration}）</translation>
    </message>
    <message>
        <source>Not delivered ({channel})</source>
        <translation>未配信（{channel}）</translation>
    </message>
    <message>
        <source>Notification channels</source>
        <translation>通知チャネル</translation>
    </message>
    <message>
        <source>Alert settings…</source>
        <translation>アラート設定…</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>チャネル</translation>
    </message>
    <message>
        <source>Last attempt</source>
        <translation>最終試行</translation>
    </message>
    <message>
        <source>{channel}: {error}</source>
        <translation>{channel}：{error}</translation>
    </message>
    <message>
        <source>Thresholds</source>
        <translation>しきい値</translation>
    </message>
    <message>
        <source>DingTalk</source>
        <translation>DingTalk</translation>
    </message>
    <message>
        <source>WeCom</source>
        <translation>WeCom</translation>
    </message>
    <message>
        <source>Feishu / Lark</source>
        <translation>Feishu / Lark</translation>
    </message>
    <message>
        <source>Plain JSON</source>
        <translation>プレーン JSON</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>コピーしました</translation>
    </message>
    <message>
        <source>Copy the command to the clipboard</source>
        <translation>コマンドをクリップボードにコピー</translation>
    </message>
    <message>
        <source>Enter a ws:// or wss:// address first.</source>
        <translation>先に ws:// または wss:// のアドレスを入力してください。</translation>
    </message>
    <message>
        <source>Connecting to {url}…</source>
        <translation>{url} に接続しています…</translation>
    </message>
    <message>
        <source>Trust this certificate?</source>
        <translation>この証明書を信頼しますか？</translation>
    </message>
    <message>
        <source>Only trust it if you know the server&apos;s certificate changed (for example, it was renewed). Compare it with the fingerprint the server prints at start:

{fingerprint}</source>
        <translation>サーバーの証明書が変更された（更新されたなど）ことが確かな場合にのみ信頼してください。サーバーが起動時に表示するフィンガープリントと照合してください：

{fingerprint}</translation>
    </message>
    <message>
        <source>Trust</source>
        <translation>信頼する</translation>
    </message>
    <message>
        <source>Connected: the gateway answered in {ms} ms (version {version}).</source>
        <translation>接続しました：ゲートウェイは {ms} ミリ秒で応答しました（バージョン {version}）。</translation>
    </message>
    <message>
        <source>The server&apos;s certificate does not match the pinned fingerprint.</source>
        <translation>サーバーの証明書が固定されたフィンガープリントと一致しません。</translation>
    </message>
    <message>
        <source>The gateway answered, but this computer is not approved there yet.</source>
        <translation>ゲートウェイは応答しましたが、このコンピューターはまだ承認されていません。</translation>
    </message>
    <message>
        <source>The gateway cannot be reached: {detail}</source>
        <translation>ゲートウェイに接続できません：{detail}</translation>
    </message>
    <message>
        <source>The gateway refused the connection: {detail}</source>
        <translation>ゲートウェイが接続を拒否しました：{detail}</translation>
    </message>
    <message>
        <source>Pairing request: {id}</source>
        <translation>ペアリング要求：{id}</translation>
    </message>
    <message>
        <source>Connect to this gateway with the settings shown and check that it answers</source>
        <translation>表示中の設定でこのゲートウェイに接続し、応答するか確認します</translation>
    </message>
    <message>
        <source>Trust the server&apos;s certificate…</source>
        <translation>サーバーの証明書を信頼…</translation>
    </message>
    <message>
        <source>Pinned:</source>
        <translation>固定済み：</translation>
    </message>
    <message>
        <source>Server:</source>
        <translation>サーバー：</translation>
    </message>
    <message>
        <source>If you did not change the server&apos;s certificate, someone may be intercepting the connection.</source>
        <translation>サーバーの証明書を変更していない場合、誰かが通信を傍受している可能性があります。</translation>
    </message>
    <message>
        <source>Approve this computer on the server</source>
        <translation>サーバーでこのコンピューターを承認する</translation>
    </message>
    <message>
        <source>The gateway only lets in devices its owner approved. Run one of these commands on the server:</source>
        <translation>このゲートウェイは所有者が承認したデバイスしか接続できません。サーバーで次のいずれかのコマンドを実行してください：</translation>
    </message>
    <message>
        <source>On an OpenClaw gateway:</source>
        <translation>OpenClaw ゲートウェイの場合：</translation>
    </message>
    <message>
        <source>On a molt-desktop gateway:</source>
        <translation>molt-desktop ゲートウェイの場合：</translation>
    </message>
    <message>
        <source>Then click Check again.</source>
        <translation>その後「もう一度確認」をクリックしてください。</translation>
    </message>
    <message>
        <source>Check again</source>
        <translation>もう一度確認</translation>
    </message>
    <message>
        <source>The gateway refused the token: it does not match the gateway&apos;s token. Copy the token again from the server.</source>
        <translation>ゲートウェイがトークンを拒否しました。ゲートウェイのトークンと一致しません。サーバーからトークンをもう一度コピーしてください。</translation>
    </message>
    <message>
        <source>The gateway needs a token. Enter the gateway token of the server.</source>
        <translation>このゲートウェイにはトークンが必要です。サーバーのゲートウェイトークンを入力してください。</translation>
    </message>
    <message>
        <source>The gateway refused too many attempts; wait a minute, then test again.</source>
        <translation>試行回数が多すぎるため拒否されました。1 分待ってからもう一度テストしてください。</translation>
    </message>
    <message>
        <source>The gateway refused this computer&apos;s credentials: {detail}</source>
        <translation>ゲートウェイがこのコンピューターの認証情報を拒否しました：{detail}</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}” ({url}): the local gateway is unreachable.</source>
        <translation>サーバーのゲートウェイ「{name}」（{url}）を使用中：ローカルゲートウェイに接続できません。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}” ({url}): the local gateway does not respond.</source>
        <translation>サーバーのゲートウェイ「{name}」（{url}）を使用中：ローカルゲートウェイが応答しません。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}” ({url}): the local model provider keeps failing.</source>
        <translation>サーバーのゲートウェイ「{name}」（{url}）を使用中：ローカルのモデルプロバイダーでエラーが続いています。</translation>
    </message>
    <message>
        <source>{reason} ({url})</source>
        <translation>{reason}（{url}）</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}” ({url}).</source>
        <translation>サーバーのゲートウェイ「{name}」（{url}）を使用中です。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}”: the local gateway is unreachable.</source>
        <translation>サーバーのゲートウェイ「{name}」を使用中：ローカルゲートウェイに接続できません。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}”: the local gateway does not respond.</source>
        <translation>サーバーのゲートウェイ「{name}」を使用中：ローカルゲートウェイが応答しません。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}”: the local model provider keeps failing.</source>
        <translation>サーバーのゲートウェイ「{name}」を使用中：ローカルのモデルプロバイダーでエラーが続いています。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}”.</source>
        <translation>サーバーのゲートウェイ「{name}」を使用中です。</translation>
    </message>
    <message>
        <source>Switched to the server gateway</source>
        <translation>サーバーのゲートウェイに切り替えました</translation>
    </message>
    <message>
        <source>Back on the local gateway</source>
        <translation>ローカルゲートウェイに戻りました</translation>
    </message>
    <message>
        <source>The local gateway works again; new messages go to it.</source>
        <translation>ローカルゲートウェイが復旧しました。新しいメッセージはローカルに送られます。</translation>
    </message>
    <message>
        <source>Turn on desktop notifications and save, then test them.</source>
        <translation>デスクトップ通知をオンにして保存してから、テストしてください。</translation>
    </message>
    <message>
        <source>Turn on e-mail alerts, enter the SMTP server and a recipient, and save, then test them.</source>
        <translation>メールアラートをオンにし、SMTP サーバーと宛先を入力して保存してから、テストしてください。</translation>
    </message>
    <message>
        <source>Turn on the webhook, enter its URL, and save, then test it.</source>
        <translation>Webhook をオンにし、URL を入力して保存してから、テストしてください。</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>送信中…</translation>
    </message>
    <message>
        <source>Sends a test alert with the saved settings; nothing is saved.</source>
        <translation>保存済みの設定でテストアラートを送信します。何も保存されません。</translation>
    </message>
    <message>
        <source>Tests need the desktop app&apos;s health monitor, which is not running.</source>
        <translation>テストにはデスクトップアプリのヘルスモニターが必要ですが、実行されていません。</translation>
    </message>
    <message>
        <source>Sending a test alert…</source>
        <translation>テストアラートを送信中…</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>配信されました</translation>
    </message>
    <message>
        <source>Not delivered: {error}</source>
        <translation>配信できませんでした：{error}</translation>
    </message>
    <message>
        <source>{title}
from {device} — open to read it, or continue it here</source>
        <translation>{title}
{device} から — 開いて読むか、ここで続けます</translation>
    </message>
    <message numerus="yes">
        <source>{device} (%n)</source>
        <translation>
            <numerusform>{device}（%n）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Other devices (%n)</source>
        <translation>
            <numerusform>他のデバイス（%n）</numerusform>
        </translation>
    </message>
    <message>
        <source>Sessions of your other computers, copied here by sync. They are read-only; open one to read it or continue it here.</source>
        <translation>他のコンピューターのセッションで、同期によりここにコピーされたものです。読み取り専用です。開いて読むか、ここで続けられます。</translation>
    </message>
    <message>
        <source>This session cannot be continued here: {error}</source>
        <translation>このセッションはここで続けられません：{error}</translation>
    </message>
    <message>
        <source>From {device}, last active {when}. Read-only: continue it here to reply.</source>
        <translation>{device} から、最終アクティブは{when}。読み取り専用です。返信するにはここで続けてください。</translation>
    </message>
    <message numerus="yes">
        <source>%n message(s).</source>
        <translation>
            <numerusform>%n 件のメッセージ。</numerusform>
        </translation>
    </message>
    <message>
        <source>{title} — from {device}</source>
        <translation>{title} — {device} から</translation>
    </message>
    <message>
        <source>Continue here</source>
        <translation>ここで続ける</translation>
    </message>
    <message>
        <source>Copy this conversation into a new chat on this computer and go on there; the original stays as it is.</source>
        <translation>この会話をこのコンピューターの新しいチャットにコピーして、そこで続けます。元の会話はそのまま残ります。</translation>
    </message>
    <message>
        <source>Sync stopped: nothing was archived on the server.</source>
        <translation>同期を停止しました。サーバー上のファイルは何もアーカイブされていません。</translation>
    </message>
    <message>
        <source>Another sync is running right now; try again in a moment.
{detail}</source>
        <translation>別の同期が実行中です。しばらくしてからもう一度お試しください。
{detail}</translation>
    </message>
    <message>
        <source>Sync failed: {error}</source>
        <translation>同期に失敗しました：{error}</translation>
    </message>
    <message>
        <source>This sync would archive {count} of the {total} files of this computer on the server.</source>
        <translation>この同期では、サーバー上にあるこのコンピューターの {total} 個のファイルのうち {count} 個がアーカイブされます。</translation>
    </message>
    <message>
        <source>That happens when many sessions were deleted here, or when this computer&apos;s sessions folder was replaced. Archived files are renamed on the server, not destroyed.</source>
        <translation>これは、このコンピューターで多くのセッションを削除したか、セッションフォルダーが置き換えられた場合に起こります。アーカイブされたファイルはサーバー上で名前が変更されるだけで、削除されません。</translation>
    </message>
    <message>
        <source>Archive and sync</source>
        <translation>アーカイブして同期</translation>
    </message>
    <message>
        <source>Sessions cannot be continued here without the local session store.</source>
        <translation>ローカルのセッションストアがないため、ここでセッションを続けられません。</translation>
    </message>
    <message>
        <source>{n} B</source>
        <translation>{n} B</translation>
    </message>
    <message>
        <source>{n} KB</source>
        <translation>{n} KB</translation>
    </message>
    <message>
        <source>{n} MB</source>
        <translation>{n} MB</translation>
    </message>
    <message>
        <source>Sent {files} files ({size}), received {rfiles} files ({rsize}).</source>
        <translation>{files} 個のファイル（{size}）を送信し、{rfiles} 個のファイル（{rsize}）を受信しました。</translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) had problems:</source>
        <translation>
            <numerusform>%n 個のファイルで問題が発生しました：</numerusform>
        </translation>
    </message>
    <message>
        <source>Up to date</source>
        <translation>最新</translation>
    </message>
    <message>
        <source>Syncing…</source>
        <translation>同期中…</translation>
    </message>
    <message>
        <source>Waiting to retry</source>
        <translation>再試行を待機中</translation>
    </message>
    <message>
        <source>Waiting for your confirmation</source>
        <translation>確認を待っています</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <source>{time} ({age} ago)</source>
        <translation>{time}（{age}前）</translation>
    </message>
    <message>
        <source>{time} (in {wait})</source>
        <translation>{time}（{wait}後）</translation>
    </message>
    <message>
        <source>Sync is off.</source>
        <translation>同期はオフです。</translation>
    </message>
    <message>
        <source>Last sync: {when}</source>
        <translation>前回の同期：{when}</translation>
    </message>
    <message>
        <source>waiting for your confirmation to archive {count} files</source>
        <translation>{count} 個のファイルのアーカイブの確認を待っています</translation>
    </message>
    <message>
        <source>last error: {error}</source>
        <translation>前回のエラー：{error}</translation>
    </message>
</context>
</TS>
