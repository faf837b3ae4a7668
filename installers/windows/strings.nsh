; The installer's own strings in English, Simplified Chinese and Japanese (the pages themselves
; come translated with NSIS's Modern UI). Every LangString needs all three languages.

LangString SecApp ${LANG_ENGLISH} "Molt Desktop"
LangString SecApp ${LANG_SIMPCHINESE} "Molt Desktop"
LangString SecApp ${LANG_JAPANESE} "Molt Desktop"

LangString SecAppDesc ${LANG_ENGLISH} "The app, its command-line tool and the Start menu shortcut."
LangString SecAppDesc ${LANG_SIMPCHINESE} "应用程序、命令行工具和“开始”菜单快捷方式。"
LangString SecAppDesc ${LANG_JAPANESE} "アプリ、コマンドライン ツール、スタート メニューのショートカット。"

LangString SecDesktop ${LANG_ENGLISH} "Desktop shortcut"
LangString SecDesktop ${LANG_SIMPCHINESE} "桌面快捷方式"
LangString SecDesktop ${LANG_JAPANESE} "デスクトップのショートカット"

LangString SecDesktopDesc ${LANG_ENGLISH} "Put a shortcut to Molt Desktop on the desktop."
LangString SecDesktopDesc ${LANG_SIMPCHINESE} "在桌面上创建 Molt Desktop 的快捷方式。"
LangString SecDesktopDesc ${LANG_JAPANESE} "デスクトップに Molt Desktop のショートカットを作成します。"

LangString SecAutostart ${LANG_ENGLISH} "Start at login"
LangString SecAutostart ${LANG_SIMPCHINESE} "登录时启动"
LangString SecAutostart ${LANG_JAPANESE} "ログイン時に起動"

LangString SecAutostartDesc ${LANG_ENGLISH} "Start Molt Desktop in the tray when you log in to Windows. You can change this later in the settings."
LangString SecAutostartDesc ${LANG_SIMPCHINESE} "登录 Windows 时在托盘中启动 Molt Desktop。以后可以在设置中更改。"
LangString SecAutostartDesc ${LANG_JAPANESE} "Windows へのログイン時に Molt Desktop をトレイで起動します。後から設定で変更できます。"

LangString UnSecAppDesc ${LANG_ENGLISH} "Remove the app, its shortcuts and its start at login."
LangString UnSecAppDesc ${LANG_SIMPCHINESE} "删除应用程序、其快捷方式和登录时启动设置。"
LangString UnSecAppDesc ${LANG_JAPANESE} "アプリ、そのショートカット、ログイン時の起動を削除します。"

LangString SecRemoveData ${LANG_ENGLISH} "Remove my data"
LangString SecRemoveData ${LANG_SIMPCHINESE} "删除我的数据"
LangString SecRemoveData ${LANG_JAPANESE} "データを削除する"

LangString SecRemoveDataDesc ${LANG_ENGLISH} "Also delete your settings, chat history, device identity and logs (%APPDATA%\MoltDesktop), and the tokens and passwords kept in the Credential Manager. Without this they stay for a later install."
LangString SecRemoveDataDesc ${LANG_SIMPCHINESE} "同时删除您的设置、聊天记录、设备身份和日志（%APPDATA%\MoltDesktop），以及保存在凭据管理器中的令牌和密码。不勾选则保留，供以后重新安装时使用。"
LangString SecRemoveDataDesc ${LANG_JAPANESE} "設定、チャット履歴、デバイス ID、ログ（%APPDATA%\MoltDesktop）と、資格情報マネージャーに保存されたトークンとパスワードも削除します。選択しない場合は、次回のインストールのために残ります。"

LangString LaunchApp ${LANG_ENGLISH} "Start Molt Desktop"
LangString LaunchApp ${LANG_SIMPCHINESE} "启动 Molt Desktop"
LangString LaunchApp ${LANG_JAPANESE} "Molt Desktop を起動する"

LangString ClosingApp ${LANG_ENGLISH} "Closing the running Molt Desktop..."
LangString ClosingApp ${LANG_SIMPCHINESE} "正在关闭运行中的 Molt Desktop..."
LangString ClosingApp ${LANG_JAPANESE} "実行中の Molt Desktop を終了しています..."
LangString ForgettingSecrets ${LANG_ENGLISH} "Removing the secrets Molt Desktop kept in the Credential Manager..."
LangString ForgettingSecrets ${LANG_SIMPCHINESE} "正在删除 Molt Desktop 保存在凭据管理器中的机密..."
LangString ForgettingSecrets ${LANG_JAPANESE} "Molt Desktop が資格情報マネージャーに保存した秘密情報を削除しています..."
LangString StillRunning ${LANG_ENGLISH} "Molt Desktop is still running and its files cannot be replaced. Quit it (tray icon > Quit, or end MoltDesktop.exe and molt-desktop.exe in Task Manager), then click Retry."
LangString StillRunning ${LANG_SIMPCHINESE} "Molt Desktop 仍在运行，无法替换其文件。请退出它（托盘图标 > 退出，或在任务管理器中结束 MoltDesktop.exe 和 molt-desktop.exe），然后点击“重试”。"
LangString StillRunning ${LANG_JAPANESE} "Molt Desktop がまだ実行中のため、ファイルを置き換えられません。終了してから（トレイ アイコン > 終了、またはタスク マネージャーで MoltDesktop.exe と molt-desktop.exe を終了）、[再試行] をクリックしてください。"

LangString PresetCopied ${LANG_ENGLISH} "Deployment preset copied; it is applied when Molt Desktop first starts."
LangString PresetCopied ${LANG_SIMPCHINESE} "已复制部署预设；Molt Desktop 首次启动时将应用它。"
LangString PresetCopied ${LANG_JAPANESE} "展開用プリセットをコピーしました。Molt Desktop の初回起動時に適用されます。"

LangString PresetMissing ${LANG_ENGLISH} "The preset file given with /PRESET= does not exist:"
LangString PresetMissing ${LANG_SIMPCHINESE} "/PRESET= 指定的预设文件不存在："
LangString PresetMissing ${LANG_JAPANESE} "/PRESET= で指定されたプリセット ファイルが存在しません:"
