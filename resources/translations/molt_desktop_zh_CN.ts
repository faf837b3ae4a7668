<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name></name>
    <message>
        <source>The gateway is not reachable. It may be restarting; try again in a moment.</source>
        <translation>无法连接网关。它可能正在重启，请稍后再试。</translation>
    </message>
    <message>
        <source>The gateway refused this app&apos;s credentials. Check the gateway token in Settings.</source>
        <translation>网关拒绝了本应用的凭据。请在设置中检查网关令牌。</translation>
    </message>
    <message>
        <source>The gateway could not do this right now: {detail}</source>
        <translation>网关暂时无法完成此操作：{detail}</translation>
    </message>
    <message>
        <source>The gateway rejected the request: {detail}</source>
        <translation>网关拒绝了该请求：{detail}</translation>
    </message>
    <message>
        <source>The gateway did not answer in time. Try again.</source>
        <translation>网关未能及时响应，请重试。</translation>
    </message>
    <message>
        <source>Something went wrong: {detail}</source>
        <translation>出现问题：{detail}</translation>
    </message>
    <message>
        <source>The model provider is busy or over its rate limit. Wait a moment, then retry.</source>
        <translation>模型服务商繁忙或已超出速率限制。请稍等片刻后重试。</translation>
    </message>
    <message>
        <source>The model took too long to answer. Retry, or pick a faster model.</source>
        <translation>模型响应超时。请重试，或换一个更快的模型。</translation>
    </message>
    <message>
        <source>This conversation is too long for the model. Start a new chat or pick a model with a larger context.</source>
        <translation>此对话对该模型来说太长了。请开始新对话，或选择上下文更大的模型。</translation>
    </message>
    <message>
        <source>The model declined to answer this message.</source>
        <translation>模型拒绝回答这条消息。</translation>
    </message>
    <message>
        <source>No gateway could finish this reply: the gateway in use stopped and no other one took it over. Retry when a gateway is reachable again.</source>
        <translation>没有网关能完成这条回复：正在使用的网关已停止，也没有其他网关接手。请在网关恢复可用后重试。</translation>
    </message>
    <message>
        <source>The model provider cannot answer: {detail} Open Settings to fix the provider or pick another model.</source>
        <translation>模型服务商无法回答：{detail} 请打开设置修正服务商配置，或选择其他模型。</translation>
    </message>
    <message>
        <source>The reply failed: {detail}</source>
        <translation>回复失败：{detail}</translation>
    </message>
    <message>
        <source>unknown error</source>
        <translation>未知错误</translation>
    </message>
    <message>
        <source>Gateway port in use</source>
        <translation>网关端口已被占用</translation>
    </message>
    <message>
        <source>{reason}

molt-desktop can use another port instead. The port is saved in the settings; other devices that use this gateway need the new port too.

Port:</source>
        <translation>{reason}

molt-desktop 可以改用其他端口。端口会保存到设置中；使用此网关的其他设备也需要改用新端口。

端口：</translation>
    </message>
    <message>
        <source>Use this port</source>
        <translation>使用此端口</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>molt-desktop cannot start</source>
        <translation>molt-desktop 无法启动</translation>
    </message>
    <message>
        <source>The settings file has an error:

{error}

Fix the file, then start molt-desktop again.</source>
        <translation>设置文件有错误：

{error}

请修正该文件，然后重新启动 molt-desktop。</translation>
    </message>
    <message>
        <source>No system tray was found, so this window stays open: closing it quits molt-desktop.</source>
        <translation>未找到系统托盘，因此此窗口会保持打开：关闭它将退出 molt-desktop。</translation>
    </message>
    <message>
        <source>molt-desktop is already running: its chat window is open now.</source>
        <translation>molt-desktop 已在运行，已为你打开它的聊天窗口。</translation>
    </message>
    <message>
        <source>Another molt-desktop is running with this state folder ({path}) but does not answer. Quit it (or end its process), then start again.</source>
        <translation>另一个 molt-desktop 正在使用此状态文件夹（{path}），但没有响应。请退出它（或结束其进程）后再启动。</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新建聊天</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>The model that answers in this chat</source>
        <translation>在此对话中回答的模型</translation>
    </message>
    <message>
        <source>{tokens} tokens</source>
        <translation>{tokens} 个 token</translation>
    </message>
    <message>
        <source>{tokens} tokens · ${cost}</source>
        <translation>{tokens} 个 token · ${cost}</translation>
    </message>
    <message>
        <source>Input tokens: {input}
Output tokens: {output}</source>
        <translation>输入 token：{input}
输出 token：{output}</translation>
    </message>
    <message>
        <source>Attach images</source>
        <translation>附加图片</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.gif *.webp)</source>
        <translation>图片 (*.png *.jpg *.jpeg *.gif *.webp)</translation>
    </message>
    <message>
        <source>Write a message… (Enter sends, Shift+Enter adds a line)</source>
        <translation>输入消息…（Enter 发送，Shift+Enter 换行）</translation>
    </message>
    <message>
        <source>Remove this image</source>
        <translation>移除此图片</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>Copy this message as Markdown</source>
        <translation>以 Markdown 格式复制此消息</translation>
    </message>
    <message>
        <source>via {name}</source>
        <translation>来自 {name}</translation>
    </message>
    <message>
        <source>Made on the gateway “{name}” ({url}) and copied into this computer&apos;s history.</source>
        <translation>在网关“{name}”（{url}）上产生，已复制到这台电脑的历史记录中。</translation>
    </message>
    <message>
        <source>{input} in · {output} out</source>
        <translation>输入 {input} · 输出 {output}</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
    </message>
    <message>
        <source>Preparing the conversation…</source>
        <translation>正在准备对话…</translation>
    </message>
    <message>
        <source>Waiting for the model…</source>
        <translation>正在等待模型…</translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation>正在重新连接…</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Open Settings</source>
        <translation>打开设置</translation>
    </message>
    <message>
        <source>Start a new chat (Ctrl+N)</source>
        <translation>开始新对话 (Ctrl+N)</translation>
    </message>
    <message>
        <source>Attach an image (you can also paste or drop one)</source>
        <translation>附加图片（也可以粘贴或拖放图片）</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation>发送 (Enter)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>停止回复 (Esc)</translation>
    </message>
    <message>
        <source>{title} — molt-desktop</source>
        <translation>{title} — molt-desktop</translation>
    </message>
    <message>
        <source>The settings file has an error, so the last edit was not applied: {detail}</source>
        <translation>设置文件有错误，因此最近的修改未生效：{detail}</translation>
    </message>
    <message>
        <source>less than a minute</source>
        <translation>不到一分钟</translation>
    </message>
    <message>
        <source>{minutes} min</source>
        <translation>{minutes} 分钟</translation>
    </message>
    <message>
        <source>{hours} h {minutes} min</source>
        <translation>{hours} 小时 {minutes} 分钟</translation>
    </message>
    <message>
        <source>{days} d {hours} h</source>
        <translation>{days} 天 {hours} 小时</translation>
    </message>
    <message>
        <source>Chats cannot be saved: the folder {path} is not writable.</source>
        <translation>无法保存聊天：文件夹 {path} 不可写入。</translation>
    </message>
    <message>
        <source>No model provider is set up, so chats cannot get replies.</source>
        <translation>尚未设置模型提供方，聊天无法获得回复。</translation>
    </message>
    <message>
        <source>Chats cannot get replies: {problem}</source>
        <translation>聊天无法获得回复：{problem}</translation>
    </message>
    <message>
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <source>molt-desktop — Health</source>
        <translation>molt-desktop — 运行状况</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Gateway</source>
        <translation>网关</translation>
    </message>
    <message>
        <source>Model provider</source>
        <translation>模型提供方</translation>
    </message>
    <message>
        <source>Remote gateways</source>
        <translation>远程网关</translation>
    </message>
    <message>
        <source>Gateway in use</source>
        <translation>当前网关</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>连接</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>运行时长</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Last check</source>
        <translation>上次检查</translation>
    </message>
    <message>
        <source>Last error</source>
        <translation>最近错误</translation>
    </message>
    <message>
        <source>Default model</source>
        <translation>默认模型</translation>
    </message>
    <message>
        <source>Readiness</source>
        <translation>就绪状态</translation>
    </message>
    <message>
        <source>Last chat error</source>
        <translation>最近的聊天错误</translation>
    </message>
    <message>
        <source>Active gateway</source>
        <translation>正在使用的网关</translation>
    </message>
    <message>
        <source>Configured remotes</source>
        <translation>已配置的远程网关</translation>
    </message>
    <message>
        <source>Gateway settings…</source>
        <translation>网关设置…</translation>
    </message>
    <message>
        <source>Provider settings…</source>
        <translation>提供方设置…</translation>
    </message>
    <message>
        <source>Remote settings…</source>
        <translation>远程网关设置…</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>延迟</translation>
    </message>
    <message>
        <source>Connecting to the gateway…</source>
        <translation>正在连接网关…</translation>
    </message>
    <message>
        <source>Chats can get replies.</source>
        <translation>聊天可以正常获得回复。</translation>
    </message>
    <message>
        <source>{state}: {reason}</source>
        <translation>{state}：{reason}</translation>
    </message>
    <message>
        <source>Critical alert: {title}</source>
        <translation>严重告警：{title}</translation>
    </message>
    <message>
        <source>Warning: {title}</source>
        <translation>警告：{title}</translation>
    </message>
    <message>
        <source>Remote gateway ({name})</source>
        <translation>远程网关（{name}）</translation>
    </message>
    <message>
        <source>Local gateway (on this computer)</source>
        <translation>本地网关（本机）</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>Connected since {time}</source>
        <translation>自 {time} 起已连接</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <source>Connection lost: {error}</source>
        <translation>连接已断开：{error}</translation>
    </message>
    <message>
        <source>Sync is not available in this app.</source>
        <translation>此应用中没有同步功能。</translation>
    </message>
    <message>
        <source>Off — turn it on in the Sync settings.</source>
        <translation>关闭 — 请在同步设置中开启。</translation>
    </message>
    <message>
        <source>{state}: the next sync would archive {count} of the {total} files of this computer on the server. Use Sync now to confirm.</source>
        <translation>{state}：下一次同步将在服务器上归档本机 {total} 个文件中的 {count} 个。请使用“立即同步”确认。</translation>
    </message>
    <message>
        <source>{time} — {error}</source>
        <translation>{time} — {error}</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Session sync</source>
        <translation>会话同步</translation>
    </message>
    <message>
        <source>Last good sync</source>
        <translation>上次成功同步</translation>
    </message>
    <message>
        <source>Next sync</source>
        <translation>下次同步</translation>
    </message>
    <message>
        <source>Last run</source>
        <translation>上次运行</translation>
    </message>
    <message>
        <source>Server host key</source>
        <translation>服务器主机密钥</translation>
    </message>
    <message>
        <source>Sync settings…</source>
        <translation>同步设置…</translation>
    </message>
    <message>
        <source>none configured</source>
        <translation>未配置</translation>
    </message>
    <message>
        <source>not checked yet</source>
        <translation>尚未检查</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Chat: {key}</source>
        <translation>聊天：{key}</translation>
    </message>
    <message>
        <source>No remote gateway configured.</source>
        <translation>未配置远程网关。</translation>
    </message>
    <message>
        <source>Local gateway</source>
        <translation>本地网关</translation>
    </message>
    <message>
        <source>{name} (in use)</source>
        <translation>{name}（使用中）</translation>
    </message>
    <message>
        <source>{ms} ms</source>
        <translation>{ms} 毫秒</translation>
    </message>
    <message>
        <source>Not checked yet</source>
        <translation>尚未检查</translation>
    </message>
    <message>
        <source>code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Copy code</source>
        <translation>复制代码</translation>
    </message>
    <message>
        <source>Main session</source>
        <translation>主会话</translation>
    </message>
    <message>
        <source>Untitled session</source>
        <translation>未命名会话</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>Tool result</source>
        <translation>工具结果</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>[image]</source>
        <translation>[图片]</translation>
    </message>
    <message>
        <source>[tool call: {name}]</source>
        <translation>[工具调用：{name}]</translation>
    </message>
    <message>
        <source>Session: {key}</source>
        <translation>会话：{key}</translation>
    </message>
    <message>
        <source>Exported: {time}</source>
        <translation>导出时间：{time}</translation>
    </message>
    <message>
        <source>Markdown (readable)…</source>
        <translation>Markdown（便于阅读）…</translation>
    </message>
    <message>
        <source>JSON (chat history)…</source>
        <translation>JSON（聊天记录）…</translation>
    </message>
    <message>
        <source>JSONL transcript (OpenClaw)…</source>
        <translation>JSONL 对话记录（OpenClaw）…</translation>
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
        <translation>OpenClaw 对话记录</translation>
    </message>
    <message>
        <source>{name} ends in an unfinished line; it may have been copied while it was being written. Nothing was imported.</source>
        <translation>{name} 的最后一行不完整，可能是在写入过程中被复制的。未导入任何内容。</translation>
    </message>
    <message>
        <source>Line {line} of {name} is not valid JSON. Nothing was imported.</source>
        <translation>{name} 的第 {line} 行不是有效的 JSON。未导入任何内容。</translation>
    </message>
    <message>
        <source>{name} is not an OpenClaw transcript: its first line is not a session header. Nothing was imported.</source>
        <translation>{name} 不是 OpenClaw 对话记录：它的第一行不是会话头。未导入任何内容。</translation>
    </message>
    <message>
        <source>{name} is empty. Nothing was imported.</source>
        <translation>{name} 是空文件。未导入任何内容。</translation>
    </message>
    <message>
        <source>{name} is not a text file. Nothing was imported.</source>
        <translation>{name} 不是文本文件。未导入任何内容。</translation>
    </message>
    <message>
        <source>{name} could not be read: {error}</source>
        <translation>无法读取 {name}：{error}</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message numerus="yes">
        <source>Export %n sessions…</source>
        <translation>
            <numerusform>导出 %n 个会话…</numerusform>
        </translation>
    </message>
    <message>
        <source>Import a transcript (JSONL)…</source>
        <translation>导入对话记录（JSONL）…</translation>
    </message>
    <message>
        <source>Import from OpenClaw / Clawdbot folder…</source>
        <translation>从 OpenClaw / Clawdbot 文件夹导入…</translation>
    </message>
    <message>
        <source>Export session</source>
        <translation>导出会话</translation>
    </message>
    <message>
        <source>Import a transcript</source>
        <translation>导入对话记录</translation>
    </message>
    <message>
        <source>Import from an OpenClaw / Clawdbot folder</source>
        <translation>从 OpenClaw / Clawdbot 文件夹导入</translation>
    </message>
    <message numerus="yes">
        <source>Export %n sessions into a folder</source>
        <translation>
            <numerusform>将 %n 个会话导出到文件夹</numerusform>
        </translation>
    </message>
    <message>
        <source>Exported to {path}.</source>
        <translation>已导出到 {path}。</translation>
    </message>
    <message numerus="yes">
        <source>Exported %n sessions to {folder}.</source>
        <translation>
            <numerusform>已将 %n 个会话导出到 {folder}。</numerusform>
        </translation>
    </message>
    <message>
        <source>“{title}” was not exported: {reason}</source>
        <translation>“{title}”未能导出：{reason}</translation>
    </message>
    <message>
        <source>“{title}” is long: only its latest 1000 messages were exported.</source>
        <translation>“{title}”内容较长：只导出了最近的 1000 条消息。</translation>
    </message>
    <message>
        <source>Importing works with this computer&apos;s own gateway only. Switch to the local gateway, then try again.</source>
        <translation>只能导入到本机的网关。请切换到本地网关后重试。</translation>
    </message>
    <message>
        <source>The transcript could not be imported: {error}. Nothing was changed.</source>
        <translation>无法导入对话记录：{error}。未做任何更改。</translation>
    </message>
    <message>
        <source>Imported {name} as a new session.</source>
        <translation>已将 {name} 导入为新会话。</translation>
    </message>
    <message>
        <source>{folder} could not be imported: {error}</source>
        <translation>无法导入 {folder}：{error}</translation>
    </message>
    <message>
        <source>Imported one session from {folder}.</source>
        <translation>已从 {folder} 导入 1 个会话。</translation>
    </message>
    <message numerus="yes">
        <source>Imported %n sessions from {folder}.</source>
        <translation>
            <numerusform>已从 {folder} 导入 %n 个会话。</numerusform>
        </translation>
    </message>
    <message>
        <source>One session was already here and was left as it is.</source>
        <translation>有 1 个会话已存在，保持不变。</translation>
    </message>
    <message numerus="yes">
        <source>%n sessions were already here and were left as they are.</source>
        <translation>
            <numerusform>有 %n 个会话已存在，保持不变。</numerusform>
        </translation>
    </message>
    <message>
        <source>No session matches “{query}”.</source>
        <translation>没有与“{query}”匹配的会话。</translation>
    </message>
    <message>
        <source>No chats yet. Start one with New chat.</source>
        <translation>还没有聊天。点击“新建聊天”开始吧。</translation>
    </message>
    <message>
        <source>Delete “{title}”?</source>
        <translation>删除“{title}”？</translation>
    </message>
    <message numerus="yes">
        <source>Delete %n sessions?</source>
        <translation>
            <numerusform>删除 %n 个会话？</numerusform>
        </translation>
    </message>
    <message>
        <source>Delete sessions</source>
        <translation>删除会话</translation>
    </message>
    <message>
        <source>It disappears from the list. Its transcript is archived in the sessions folder (renamed to end in “.deleted”), not destroyed.</source>
        <translation>它将从列表中移除。其对话记录会归档在会话文件夹中（文件名以“.deleted”结尾），不会被销毁。</translation>
    </message>
    <message>
        <source>They disappear from the list. Their transcripts are archived in the sessions folder (renamed to end in “.deleted”), not destroyed.</source>
        <translation>它们将从列表中移除。其对话记录会归档在会话文件夹中（文件名以“.deleted”结尾），不会被销毁。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>The main session cannot be deleted. You can rename or export it instead.</source>
        <translation>主会话无法删除。你可以将它重命名或导出。</translation>
    </message>
    <message>
        <source>Import and export</source>
        <translation>导入和导出</translation>
    </message>
    <message>
        <source>Search chats</source>
        <translation>搜索聊天</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Pin to top</source>
        <translation>置顶</translation>
    </message>
    <message>
        <source>Unpin</source>
        <translation>取消置顶</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>just now</source>
        <translation>刚刚</translation>
    </message>
    <message numerus="yes">
        <source>%n min ago</source>
        <translation>
            <numerusform>%n 分钟前</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n h ago</source>
        <translation>
            <numerusform>%n 小时前</numerusform>
        </translation>
    </message>
    <message>
        <source>yesterday</source>
        <translation>昨天</translation>
    </message>
    <message numerus="yes">
        <source>%n days ago</source>
        <translation>
            <numerusform>%n 天前</numerusform>
        </translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Stored in the keyring; type a new value to replace it</source>
        <translation>已保存在密钥环中；输入新值即可替换</translation>
    </message>
    <message>
        <source>Saved in the config file; type a new value to move it to the keyring</source>
        <translation>已保存在配置文件中；输入新值即可移入密钥环</translation>
    </message>
    <message>
        <source>Read from the environment variable {name}</source>
        <translation>从环境变量 {name} 读取</translation>
    </message>
    <message>
        <source>Not set</source>
        <translation>未设置</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>隐藏</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Show or hide the secret</source>
        <translation>显示或隐藏密钥</translation>
    </message>
    <message>
        <source>Anthropic Messages API</source>
        <translation>Anthropic Messages API</translation>
    </message>
    <message>
        <source>OpenAI-compatible (chat completions)</source>
        <translation>OpenAI 兼容（对话补全）</translation>
    </message>
    <message>
        <source>OK, answered in {ms} ms</source>
        <translation>正常，{ms} 毫秒内响应</translation>
    </message>
    <message>
        <source>The provider refused the API key.</source>
        <translation>服务商拒绝了该 API 密钥。</translation>
    </message>
    <message>
        <source>The provider cannot be reached. Check the base URL and the network.</source>
        <translation>无法连接到服务商。请检查基础 URL 和网络。</translation>
    </message>
    <message>
        <source>The provider did not answer in time.</source>
        <translation>服务商未能及时响应。</translation>
    </message>
    <message>
        <source>The provider is rate limiting requests; the key and URL work.</source>
        <translation>服务商正在限流；密钥和 URL 可用。</translation>
    </message>
    <message>
        <source>The provider is overloaded right now; the key and URL work.</source>
        <translation>服务商当前过载；密钥和 URL 可用。</translation>
    </message>
    <message>
        <source>The provider settings are incomplete.</source>
        <translation>服务商设置不完整。</translation>
    </message>
    <message>
        <source>The provider rejected the request. Check the API kind and the model id.</source>
        <translation>服务商拒绝了请求。请检查 API 类型和模型 ID。</translation>
    </message>
    <message>
        <source>The provider had an internal error. Try again later.</source>
        <translation>服务商出现内部错误。请稍后再试。</translation>
    </message>
    <message>
        <source>The test request failed.</source>
        <translation>测试请求失败。</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Enter an http:// or https:// base URL.</source>
        <translation>请输入 http:// 或 https:// 开头的基础 URL。</translation>
    </message>
    <message>
        <source>Enter the model id to use.</source>
        <translation>请输入要使用的模型 ID。</translation>
    </message>
    <message>
        <source>Paste the API key of the provider.</source>
        <translation>请粘贴该服务商的 API 密钥。</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>正在保存…</translation>
    </message>
    <message>
        <source>Nothing was saved: the system keyring cannot store secrets, and secrets are never written into the config file.
{detail}</source>
        <translation>未保存任何内容：系统密钥环无法存储密钥，而密钥绝不会写入配置文件。
{detail}</translation>
    </message>
    <message>
        <source>The settings changed meanwhile. Press Save again.</source>
        <translation>设置在此期间已被修改。请再次点击“保存”。</translation>
    </message>
    <message>
        <source>Saved. You can chat now.</source>
        <translation>已保存。现在可以开始对话了。</translation>
    </message>
    <message>
        <source>Welcome to molt-desktop</source>
        <translation>欢迎使用 molt-desktop</translation>
    </message>
    <message>
        <source>Connect a model provider</source>
        <translation>连接模型服务商</translation>
    </message>
    <message>
        <source>Chats are answered by a model provider. Pick yours, paste its API key and choose a model. The key is kept in the system keyring. You can change all of this later in Settings.</source>
        <translation>对话由模型服务商回答。选择你的服务商，粘贴其 API 密钥并选择一个模型。密钥保存在系统密钥环中。以后可以随时在“设置”中修改。</translation>
    </message>
    <message>
        <source>Base URL</source>
        <translation>基础 URL</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>服务商</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Skip</source>
        <translation>跳过</translation>
    </message>
    <message>
        <source>Where do I get a key?</source>
        <translation>如何获取密钥？</translation>
    </message>
    <message>
        <source>Providers</source>
        <translation>服务商</translation>
    </message>
    <message>
        <source>Use letters, digits, - and _ only (it becomes part of provider/model).</source>
        <translation>只能使用字母、数字、- 和 _（它会成为 provider/model 的一部分）。</translation>
    </message>
    <message>
        <source>Another provider already has this name.</source>
        <translation>已有其他服务商使用此名称。</translation>
    </message>
    <message>
        <source>Enter an http:// or https:// address, e.g. {example}.</source>
        <translation>请输入 http:// 或 https:// 地址，例如 {example}。</translation>
    </message>
    <message>
        <source>Every model needs an id.</source>
        <translation>每个模型都需要 ID。</translation>
    </message>
    <message>
        <source>Type the API key again: a key saved in the config file cannot move to a new provider name.</source>
        <translation>请重新输入 API 密钥：保存在配置文件中的密钥无法移到新的服务商名称下。</translation>
    </message>
    <message>
        <source>Enter an http:// or https:// base URL first.</source>
        <translation>请先输入 http:// 或 https:// 开头的基础 URL。</translation>
    </message>
    <message>
        <source>The saved key cannot be read back from the config file. Type it to test.</source>
        <translation>无法从配置文件读回已保存的密钥。请输入密钥后再测试。</translation>
    </message>
    <message>
        <source>Test with model:</source>
        <translation>测试所用模型：</translation>
    </message>
    <message>
        <source>Testing {model}…</source>
        <translation>正在测试 {model}…</translation>
    </message>
    <message>
        <source>Model providers answer the chats. Add one from a preset, paste its API key, and press Test. Keys are kept in the system keyring, never in the config file.</source>
        <translation>模型服务商负责回答对话。从预设中添加一个，粘贴其 API 密钥，然后点击“测试”。密钥保存在系统密钥环中，绝不写入配置文件。</translation>
    </message>
    <message>
        <source>No provider yet: use Add to pick one.</source>
        <translation>还没有服务商：点击“添加”选择一个。</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>Who can connect</source>
        <translation>谁可以连接</translation>
    </message>
    <message>
        <source>Gateway token</source>
        <translation>网关令牌</translation>
    </message>
    <message>
        <source>Not available here</source>
        <translation>此处不可用</translation>
    </message>
    <message>
        <source>Other computers may only connect with a token or password: set gateway.auth.mode to token first.</source>
        <translation>其他电脑只能凭令牌或密码连接：请先将 gateway.auth.mode 设为 token。</translation>
    </message>
    <message>
        <source>Anyone on your network can reach the gateway at this port. They still need the gateway token; keep it secret, and prefer a trusted network.</source>
        <translation>你网络中的任何人都能通过此端口访问网关。他们仍需要网关令牌；请妥善保管，并尽量使用可信网络。</translation>
    </message>
    <message>
        <source>The token is on the clipboard.</source>
        <translation>令牌已复制到剪贴板。</translation>
    </message>
    <message>
        <source>Regenerate the gateway token?</source>
        <translation>重新生成网关令牌？</translation>
    </message>
    <message>
        <source>A new random token replaces the current one at once. Every other client of this gateway (other computers, the openclaw CLI, scripts) must be given the new token.</source>
        <translation>新的随机令牌将立即替换当前令牌。此网关的其他所有客户端（其他电脑、openclaw CLI、脚本）都必须改用新令牌。</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>The new token was not saved: {error}</source>
        <translation>新令牌未保存：{error}</translation>
    </message>
    <message>
        <source>New token saved. Other clients of this gateway need the new token now.</source>
        <translation>新令牌已保存。此网关的其他客户端现在需要使用新令牌。</translation>
    </message>
    <message>
        <source>Only this computer (loopback)</source>
        <translation>仅本机（回环）</translation>
    </message>
    <message>
        <source>Other computers on the network (LAN)</source>
        <translation>网络中的其他电脑（局域网）</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Changes of the port or of who can connect take effect after molt-desktop restarts.</source>
        <translation>端口或访问范围的更改将在 molt-desktop 重启后生效。</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>令牌</translation>
    </message>
    <message>
        <source>TLS fingerprint</source>
        <translation>TLS 指纹</translation>
    </message>
    <message>
        <source>Give the remote gateway a name.</source>
        <translation>请为远程网关命名。</translation>
    </message>
    <message>
        <source>Enter a ws:// or wss:// address, e.g. {example}.</source>
        <translation>请输入 ws:// 或 wss:// 地址，例如 {example}。</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Other OpenAI-compatible provider</source>
        <translation>其他 OpenAI 兼容服务商</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Model id</source>
        <translation>模型 ID</translation>
    </message>
    <message>
        <source>Display name</source>
        <translation>显示名称</translation>
    </message>
    <message>
        <source>Context window</source>
        <translation>上下文窗口</translation>
    </message>
    <message>
        <source>Max output tokens</source>
        <translation>最大输出 token</translation>
    </message>
    <message>
        <source>Add model</source>
        <translation>添加模型</translation>
    </message>
    <message>
        <source>Remove model</source>
        <translation>移除模型</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>测试</translation>
    </message>
    <message>
        <source>Send one tiny request with this URL, key and model</source>
        <translation>使用此 URL、密钥和模型发送一个极小的请求</translation>
    </message>
    <message>
        <source>Replying</source>
        <translation>正在回复</translation>
    </message>
    <message>
        <source>Needs attention</source>
        <translation>需要处理</translation>
    </message>
    <message>
        <source>Gateway not reachable</source>
        <translation>无法连接网关</translation>
    </message>
    <message>
        <source>Using a remote gateway</source>
        <translation>正在使用远程网关</translation>
    </message>
    <message>
        <source>Open chat</source>
        <translation>打开聊天</translation>
    </message>
    <message>
        <source>Recent chats</source>
        <translation>最近的聊天</translation>
    </message>
    <message>
        <source>Gateway status</source>
        <translation>网关状态</translation>
    </message>
    <message>
        <source>Sync now</source>
        <translation>立即同步</translation>
    </message>
    <message>
        <source>Health…</source>
        <translation>运行状况…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Start at login</source>
        <translation>开机启动</translation>
    </message>
    <message>
        <source>Start minimised</source>
        <translation>启动时最小化</translation>
    </message>
    <message>
        <source>Close to tray</source>
        <translation>关闭时最小化到托盘</translation>
    </message>
    <message>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <source>Automatic (system language)</source>
        <translation>自动（系统语言）</translation>
    </message>
    <message>
        <source>Secrets</source>
        <translation>密钥</translation>
    </message>
    <message>
        <source>Checking the system keyring…</source>
        <translation>正在检查系统密钥环…</translation>
    </message>
    <message>
        <source>API keys, tokens and passwords are kept in the system keyring ({backend}).</source>
        <translation>API 密钥、令牌和密码保存在系统密钥环中（{backend}）。</translation>
    </message>
    <message>
        <source>Secrets are kept by {backend}, which stores them unencrypted on disk.</source>
        <translation>密钥由 {backend} 保存，它以未加密形式存储在磁盘上。</translation>
    </message>
    <message>
        <source>No system keyring is available, so API keys, tokens and passwords cannot be saved. Start GNOME Keyring or KWallet (or another Secret Service) and open the settings again.</source>
        <translation>系统密钥环不可用，因此无法保存 API 密钥、令牌和密码。请启动 GNOME Keyring 或 KWallet（或其他 Secret Service），然后重新打开设置。</translation>
    </message>
    <message>
        <source>Automatic (system)</source>
        <translation>自动（跟随系统）</translation>
    </message>
    <message>
        <source>Quit molt-desktop</source>
        <translation>退出 molt-desktop</translation>
    </message>
    <message>
        <source>No chats yet</source>
        <translation>还没有聊天</translation>
    </message>
    <message>
        <source>Address: {address}</source>
        <translation>地址：{address}</translation>
    </message>
    <message>
        <source>Up for {duration}</source>
        <translation>已运行 {duration}</translation>
    </message>
    <message>
        <source>Not connected: {error}</source>
        <translation>未连接：{error}</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>Show the health of every gateway</source>
        <translation>查看每个网关的运行状况</translation>
    </message>
    <message>
        <source>connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <source>The gateway has stopped.</source>
        <translation>网关已停止。</translation>
    </message>
    <message>
        <source>Cannot reach the gateway at {address} ({error}). Retrying.</source>
        <translation>无法连接位于 {address} 的网关（{error}），正在重试。</translation>
    </message>
    <message>
        <source>A reply is streaming.</source>
        <translation>正在生成一条回复。</translation>
    </message>
    <message>
        <source>{count} replies are streaming.</source>
        <translation>正在生成 {count} 条回复。</translation>
    </message>
    <message>
        <source>The local gateway is running at {address}.</source>
        <translation>本地网关正在 {address} 上运行。</translation>
    </message>
    <message>
        <source>molt-desktop — Critical alert: {title}</source>
        <translation>molt-desktop — 严重告警：{title}</translation>
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
        <translation>molt-desktop — {state}：{reason}</translation>
    </message>
    <message>
        <source>The config file has errors; saving is refused until they are fixed in the file ({path}).</source>
        <translation>配置文件有错误；在文件（{path}）中修正之前无法保存。</translation>
    </message>
    <message>
        <source>Nothing was saved. Fix the marked settings, then save again.</source>
        <translation>未保存任何内容。请修正标记的设置后再保存。</translation>
    </message>
    <message>
        <source>Nothing to save: no setting was changed.</source>
        <translation>没有需要保存的内容：未更改任何设置。</translation>
    </message>
    <message>
        <source>The settings were changed elsewhere while this window was open. They have been loaded again: check them and save again.</source>
        <translation>此窗口打开期间，设置已在别处被修改，现已重新载入：请检查后再次保存。</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
    <message>
        <source>Start at login could not be changed: {error}</source>
        <translation>无法更改开机启动：{error}</translation>
    </message>
    <message>
        <source>The settings cannot be read: {error}</source>
        <translation>无法读取设置：{error}</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Check and save the settings, then close</source>
        <translation>检查并保存设置，然后关闭</translation>
    </message>
    <message>
        <source>Check and save the settings</source>
        <translation>检查并保存设置</translation>
    </message>
    <message>
        <source>Fallbacks</source>
        <translation>备用模型</translation>
    </message>
    <message>
        <source>Write the model as provider/modelId, e.g. {example}.</source>
        <translation>请按 provider/modelId 格式填写模型，例如 {example}。</translation>
    </message>
    <message>
        <source>There is no provider named {name}. Add it on the Providers page.</source>
        <translation>没有名为 {name} 的服务商。请在“服务商”页面添加。</translation>
    </message>
    <message>
        <source>Up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Sync sessions</source>
        <translation>同步会话</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Share</source>
        <translation>共享</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>SSH key file</source>
        <translation>SSH 密钥文件</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>This computer&apos;s name</source>
        <translation>本机名称</translation>
    </message>
    <message>
        <source>Enter the name of the share on the server.</source>
        <translation>请输入服务器上的共享名称。</translation>
    </message>
    <message>
        <source>Choose the mounted folder to sync with.</source>
        <translation>请选择要同步的已挂载文件夹。</translation>
    </message>
    <message>
        <source>… and {count} more</source>
        <translation>… 以及另外 {count} 个</translation>
    </message>
    <message>
        <source>Connected. Device folders there:</source>
        <translation>已连接。其中的设备文件夹：</translation>
    </message>
    <message>
        <source>Connected. The folder has no device folders yet: the first sync creates this computer&apos;s.</source>
        <translation>已连接。该文件夹中还没有设备文件夹：第一次同步会创建本机的文件夹。</translation>
    </message>
    <message>
        <source>The test failed: {error}</source>
        <translation>测试失败：{error}</translation>
    </message>
    <message>
        <source>Server host key: {fingerprint}</source>
        <translation>服务器主机密钥：{fingerprint}</translation>
    </message>
    <message>
        <source>Turn sync on and save the settings first.</source>
        <translation>请先开启同步并保存设置。</translation>
    </message>
    <message>
        <source>e.g. /mnt/backup/molt</source>
        <translation>例如 /mnt/backup/molt</translation>
    </message>
    <message>
        <source>Default ({port})</source>
        <translation>默认（{port}）</translation>
    </message>
    <message>
        <source>Folder on the server</source>
        <translation>服务器上的文件夹</translation>
    </message>
    <message>
        <source>Choose the mounted folder</source>
        <translation>选择已挂载的文件夹</translation>
    </message>
    <message>
        <source>SFTP (SSH)</source>
        <translation>SFTP（SSH）</translation>
    </message>
    <message>
        <source>SMB (Windows share)</source>
        <translation>SMB（Windows 共享）</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <source>Connect with the settings shown (saved or not) and list the folder</source>
        <translation>用当前显示的设置（无论是否已保存）连接并列出文件夹</translation>
    </message>
    <message>
        <source>Interval (seconds)</source>
        <translation>间隔（秒）</translation>
    </message>
    <message>
        <source>Sync on change</source>
        <translation>变化时同步</translation>
    </message>
    <message>
        <source>Sync</source>
        <translation>同步</translation>
    </message>
    <message>
        <source>Enter the server to sync with, or turn sync off.</source>
        <translation>请输入要同步的服务器，或关闭同步。</translation>
    </message>
    <message>
        <source>Folder inside the share</source>
        <translation>共享内的文件夹</translation>
    </message>
    <message>
        <source>Mounted folder</source>
        <translation>已挂载的文件夹</translation>
    </message>
    <message>
        <source>Choose the SSH private key</source>
        <translation>选择 SSH 私钥</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Desktop notifications</source>
        <translation>桌面通知</translation>
    </message>
    <message>
        <source>Send e-mails</source>
        <translation>发送邮件</translation>
    </message>
    <message>
        <source>SMTP server</source>
        <translation>SMTP 服务器</translation>
    </message>
    <message>
        <source>From</source>
        <translation>发件人</translation>
    </message>
    <message>
        <source>To</source>
        <translation>收件人</translation>
    </message>
    <message>
        <source>Post to a webhook</source>
        <translation>发送到 Webhook</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Signing secret</source>
        <translation>签名密钥</translation>
    </message>
    <message>
        <source>CPU warning</source>
        <translation>CPU 警告</translation>
    </message>
    <message>
        <source>CPU critical</source>
        <translation>CPU 严重</translation>
    </message>
    <message>
        <source>Memory critical</source>
        <translation>内存严重</translation>
    </message>
    <message>
        <source>Model error rate critical</source>
        <translation>模型错误率严重</translation>
    </message>
    <message>
        <source>Check every (seconds)</source>
        <translation>检查间隔（秒）</translation>
    </message>
    <message>
        <source>Alerts</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>Enter an http:// or https:// address.</source>
        <translation>请输入 http:// 或 https:// 地址。</translation>
    </message>
    <message>
        <source>E-mail alerts need an SMTP server and at least one recipient.</source>
        <translation>邮件告警需要 SMTP 服务器和至少一个收件人。</translation>
    </message>
    <message>
        <source>Write the server as host:port, e.g. {example}.</source>
        <translation>请按 host:port 格式填写服务器，例如 {example}。</translation>
    </message>
    <message>
        <source>Desktop</source>
        <translation>桌面</translation>
    </message>
    <message>
        <source>Critical</source>
        <translation>严重</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <source>Info</source>
        <translation>信息</translation>
    </message>
    <message>
        <source>Fired</source>
        <translation>已触发</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>已恢复</translation>
    </message>
    <message>
        <source>Still firing</source>
        <translation>仍在持续</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>电子邮件</translation>
    </message>
    <message>
        <source>Webhook</source>
        <translation>Webhook</translation>
    </message>
    <message>
        <source>Tray icon</source>
        <translation>托盘图标</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Not used yet</source>
        <translation>尚未使用</translation>
    </message>
    <message>
        <source>Working</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>Failing ({count} times in a row)</source>
        <translation>失败（连续 {count} 次）</translation>
    </message>
    <message>
        <source>Failing</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>No alert is firing.</source>
        <translation>当前没有告警。</translation>
    </message>
    <message>
        <source>Recent alerts</source>
        <translation>最近的告警</translation>
    </message>
    <message>
        <source>No alerts so far.</source>
        <translation>目前还没有告警。</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>Alert</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>{time} ({duration})</source>
        <translation>{time}（{duration}）</translation>
    </message>
    <message>
        <source>Not delivered ({channel})</source>
        <translation>未送达（{channel}）</translation>
    </message>
    <message>
        <source>Notification channels</source>
        <translation>通知渠道</translation>
    </message>
    <message>
        <source>Alert settings…</source>
        <translation>告警设置…</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>渠道</translation>
    </message>
    <message>
        <source>Last attempt</source>
        <translation>上次尝试</translation>
    </message>
    <message>
        <source>{channel}: {error}</source>
        <translation>{channel}：{error}</translation>
    </message>
    <message>
        <source>Thresholds</source>
        <translation>阈值</translation>
    </message>
    <message>
        <source>DingTalk</source>
        <translation>钉钉</translation>
    </message>
    <message>
        <source>WeCom</source>
        <translation>企业微信</translation>
    </message>
    <message>
        <source>Feishu / Lark</source>
        <translation>飞书 / Lark</translation>
    </message>
    <message>
        <source>Plain JSON</source>
        <translation>普通 JSON</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>Copy the command to the clipboard</source>
        <translation>将命令复制到剪贴板</translation>
    </message>
    <message>
        <source>Enter a ws:// or wss:// address first.</source>
        <translation>请先输入 ws:// 或 wss:// 地址。</translation>
    </message>
    <message>
        <source>Connecting to {url}…</source>
        <translation>正在连接 {url}…</translation>
    </message>
    <message>
        <source>Trust this certificate?</source>
        <translation>信任此证书？</translation>
    </message>
    <message>
        <source>Only trust it if you know the server&apos;s certificate changed (for example, it was renewed). Compare it with the fingerprint the server prints at start:

{fingerprint}</source>
        <translation>只有在你确认服务器证书确实已更换（例如已续期）时才信任它。请与服务器启动时显示的指纹进行比对：

{fingerprint}</translation>
    </message>
    <message>
        <source>Trust</source>
        <translation>信任</translation>
    </message>
    <message>
        <source>Connected: the gateway answered in {ms} ms (version {version}).</source>
        <translation>已连接：网关在 {ms} 毫秒内响应（版本 {version}）。</translation>
    </message>
    <message>
        <source>The server&apos;s certificate does not match the pinned fingerprint.</source>
        <translation>服务器证书与已固定的指纹不一致。</translation>
    </message>
    <message>
        <source>The gateway answered, but this computer is not approved there yet.</source>
        <translation>网关已响应，但这台电脑尚未在那里获得批准。</translation>
    </message>
    <message>
        <source>The gateway cannot be reached: {detail}</source>
        <translation>无法连接到网关：{detail}</translation>
    </message>
    <message>
        <source>The gateway refused the connection: {detail}</source>
        <translation>网关拒绝了连接：{detail}</translation>
    </message>
    <message>
        <source>Pairing request: {id}</source>
        <translation>配对请求：{id}</translation>
    </message>
    <message>
        <source>Connect to this gateway with the settings shown and check that it answers</source>
        <translation>用当前显示的设置连接此网关，并检查它是否响应</translation>
    </message>
    <message>
        <source>Trust the server&apos;s certificate…</source>
        <translation>信任服务器的证书…</translation>
    </message>
    <message>
        <source>Pinned:</source>
        <translation>已固定：</translation>
    </message>
    <message>
        <source>Server:</source>
        <translation>服务器：</translation>
    </message>
    <message>
        <source>If you did not change the server&apos;s certificate, someone may be intercepting the connection.</source>
        <translation>如果你没有更换过服务器的证书，可能有人在拦截这个连接。</translation>
    </message>
    <message>
        <source>Approve this computer on the server</source>
        <translation>在服务器上批准这台电脑</translation>
    </message>
    <message>
        <source>The gateway only lets in devices its owner approved. Run one of these commands on the server:</source>
        <translation>该网关只允许其所有者批准过的设备接入。请在服务器上运行以下任一命令：</translation>
    </message>
    <message>
        <source>On an OpenClaw gateway:</source>
        <translation>在 OpenClaw 网关上：</translation>
    </message>
    <message>
        <source>On a molt-desktop gateway:</source>
        <translation>在 molt-desktop 网关上：</translation>
    </message>
    <message>
        <source>Then click Check again.</source>
        <translation>然后点击“重新检查”。</translation>
    </message>
    <message>
        <source>Check again</source>
        <translation>重新检查</translation>
    </message>
    <message>
        <source>The gateway refused the token: it does not match the gateway&apos;s token. Copy the token again from the server.</source>
        <translation>网关拒绝了该令牌：它与网关的令牌不一致。请从服务器重新复制令牌。</translation>
    </message>
    <message>
        <source>The gateway needs a token. Enter the gateway token of the server.</source>
        <translation>该网关需要令牌。请输入服务器的网关令牌。</translation>
    </message>
    <message>
        <source>The gateway refused too many attempts; wait a minute, then test again.</source>
        <translation>尝试次数过多，网关已拒绝；请等待一分钟后再测试。</translation>
    </message>
    <message>
        <source>The gateway refused this computer&apos;s credentials: {detail}</source>
        <translation>网关拒绝了这台电脑的凭据：{detail}</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}” ({url}): the local gateway is unreachable.</source>
        <translation>正在使用服务器网关“{name}”（{url}）：无法连接本地网关。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}” ({url}): the local gateway does not respond.</source>
        <translation>正在使用服务器网关“{name}”（{url}）：本地网关没有响应。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}” ({url}): the local model provider keeps failing.</source>
        <translation>正在使用服务器网关“{name}”（{url}）：本地的模型服务商持续出错。</translation>
    </message>
    <message>
        <source>{reason} ({url})</source>
        <translation>{reason}（{url}）</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}” ({url}).</source>
        <translation>正在使用服务器网关“{name}”（{url}）。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}”: the local gateway is unreachable.</source>
        <translation>正在使用服务器网关“{name}”：无法连接本地网关。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}”: the local gateway does not respond.</source>
        <translation>正在使用服务器网关“{name}”：本地网关没有响应。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}”: the local model provider keeps failing.</source>
        <translation>正在使用服务器网关“{name}”：本地的模型服务商持续出错。</translation>
    </message>
    <message>
        <source>Using the server gateway “{name}”.</source>
        <translation>正在使用服务器网关“{name}”。</translation>
    </message>
    <message>
        <source>Switched to the server gateway</source>
        <translation>已切换到服务器网关</translation>
    </message>
    <message>
        <source>Back on the local gateway</source>
        <translation>已切回本地网关</translation>
    </message>
    <message>
        <source>The local gateway works again; new messages go to it.</source>
        <translation>本地网关已恢复正常，新消息将发送到本地网关。</translation>
    </message>
    <message>
        <source>Turn on desktop notifications and save, then test them.</source>
        <translation>请先开启桌面通知并保存，然后再测试。</translation>
    </message>
    <message>
        <source>Turn on e-mail alerts, enter the SMTP server and a recipient, and save, then test them.</source>
        <translation>请先开启邮件告警，填写 SMTP 服务器和至少一个收件人并保存，然后再测试。</translation>
    </message>
    <message>
        <source>Turn on the webhook, enter its URL, and save, then test it.</source>
        <translation>请先开启 Webhook，填写其 URL 并保存，然后再测试。</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>正在发送…</translation>
    </message>
    <message>
        <source>Sends a test alert with the saved settings; nothing is saved.</source>
        <translation>使用已保存的设置发送一条测试告警，不会保存任何更改。</translation>
    </message>
    <message>
        <source>Tests need the desktop app&apos;s health monitor, which is not running.</source>
        <translation>测试需要桌面应用的健康监控，但它目前没有运行。</translation>
    </message>
    <message>
        <source>Sending a test alert…</source>
        <translation>正在发送测试告警…</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>已送达</translation>
    </message>
    <message>
        <source>Not delivered: {error}</source>
        <translation>未送达：{error}</translation>
    </message>
    <message>
        <source>{title}
from {device} — open to read it, or continue it here</source>
        <translation>{title}
来自 {device} — 打开即可阅读，或在此继续</translation>
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
            <numerusform>其他设备（%n）</numerusform>
        </translation>
    </message>
    <message>
        <source>Sessions of your other computers, copied here by sync. They are read-only; open one to read it or continue it here.</source>
        <translation>你其他电脑上的会话，由同步复制到这里。它们是只读的；打开即可阅读，或在此继续。</translation>
    </message>
    <message>
        <source>This session cannot be continued here: {error}</source>
        <translation>无法在此继续该会话：{error}</translation>
    </message>
    <message>
        <source>From {device}, last active {when}. Read-only: continue it here to reply.</source>
        <translation>来自 {device}，最后活动于{when}。只读：在此继续即可回复。</translation>
    </message>
    <message numerus="yes">
        <source>%n message(s).</source>
        <translation>
            <numerusform>%n 条消息。</numerusform>
        </translation>
    </message>
    <message>
        <source>{title} — from {device}</source>
        <translation>{title} — 来自 {device}</translation>
    </message>
    <message>
        <source>Continue here</source>
        <translation>在此继续</translation>
    </message>
    <message>
        <source>Copy this conversation into a new chat on this computer and go on there; the original stays as it is.</source>
        <translation>将此对话复制到本机的新聊天中并在那里继续；原对话保持不变。</translation>
    </message>
    <message>
        <source>Sync stopped: nothing was archived on the server.</source>
        <translation>同步已停止：服务器上没有归档任何文件。</translation>
    </message>
    <message>
        <source>Another sync is running right now; try again in a moment.
{detail}</source>
        <translation>另一个同步正在进行，请稍后再试。
{detail}</translation>
    </message>
    <message>
        <source>Sync failed: {error}</source>
        <translation>同步失败：{error}</translation>
    </message>
    <message>
        <source>This sync would archive {count} of the {total} files of this computer on the server.</source>
        <translation>此次同步将在服务器上归档本机 {total} 个文件中的 {count} 个。</translation>
    </message>
    <message>
        <source>That happens when many sessions were deleted here, or when this computer&apos;s sessions folder was replaced. Archived files are renamed on the server, not destroyed.</source>
        <translation>这通常是因为在本机删除了许多会话，或本机的会话文件夹被替换。归档的文件在服务器上只是被重命名，不会被销毁。</translation>
    </message>
    <message>
        <source>Archive and sync</source>
        <translation>归档并同步</translation>
    </message>
    <message>
        <source>Sessions cannot be continued here without the local session store.</source>
        <translation>没有本地会话存储，无法在此继续会话。</translation>
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
        <translation>已发送 {files} 个文件（{size}），已接收 {rfiles} 个文件（{rsize}）。</translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) had problems:</source>
        <translation>
            <numerusform>%n 个文件出现问题：</numerusform>
        </translation>
    </message>
    <message>
        <source>Up to date</source>
        <translation>已是最新</translation>
    </message>
    <message>
        <source>Syncing…</source>
        <translation>正在同步…</translation>
    </message>
    <message>
        <source>Waiting to retry</source>
        <translation>等待重试</translation>
    </message>
    <message>
        <source>Waiting for your confirmation</source>
        <translation>等待你的确认</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>{time} ({age} ago)</source>
        <translation>{time}（{age}前）</translation>
    </message>
    <message>
        <source>{time} (in {wait})</source>
        <translation>{time}（{wait}后）</translation>
    </message>
    <message>
        <source>Sync is off.</source>
        <translation>同步已关闭。</translation>
    </message>
    <message>
        <source>Last sync: {when}</source>
        <translation>上次同步：{when}</translation>
    </message>
    <message>
        <source>waiting for your confirmation to archive {count} files</source>
        <translation>等待你确认归档 {count} 个文件</translation>
    </message>
    <message>
        <source>last error: {error}</source>
        <translation>上次错误：{error}</translation>
    </message>
</context>
</TS>
