; The Windows installer of molt-desktop: a per-user install (no admin rights) of the PyInstaller
; onedir bundle into %LOCALAPPDATA%\Programs\MoltDesktop, in English, Simplified Chinese or Japanese.
;
; Build (after `python -m PyInstaller build.spec`):  makensis installers/windows/molt-desktop.nsi
; The version comes from molt_desktop/version.py and the files from dist/molt-desktop; both can be
; overridden with /DVERSION=... and /DDIST=..., the output file with /DOUTFILE=..., the
; compression with /DCOMPRESSOR=zlib|bzip2|lzma|off, the installer's CPU with /DTARGET (below).
;
; Command line of the installer (silent roll-out: /S, every page skipped, the defaults below):
;   /PRESET=<file>     copy a deployment preset (JSON5) to $INSTDIR\preset.json5; the app turns it
;                      into its settings on first start (molt_desktop/preset.py), secrets left out
;   /DESKTOP=0|1       desktop shortcut (default 1; on an upgrade, whether there is one now)
;   /AUTOSTART=0|1     start at login (default 0; on an upgrade, whether it is on now)
;   /D=<dir>           install folder (NSIS's own option; must come last)
; Exit codes: 0 installed, 1 cancelled, 2 a /PRESET= file that does not exist, or the running app
; could not be closed (nothing was changed then).
; The uninstaller keeps the user's data (%APPDATA%\MoltDesktop) unless "Remove my data" is ticked
; or, silently, /REMOVEDATA is given.
; The strings of the pages and messages live in strings.nsh, one LangString per language.

; The official NSIS builds make 32-bit (x86-unicode) installers, which run on every Windows the
; app runs on; /DTARGET=amd64-unicode makes a 64-bit one where the stubs exist (Debian's nsis).
!ifdef TARGET
  Target ${TARGET}
!endif
Unicode true
ManifestDPIAware true
RequestExecutionLevel user
; lzma packs the bundle smallest; a test that only checks the script compiles with /DCOMPRESSOR=off.
!ifndef COMPRESSOR
  !define COMPRESSOR "lzma"
!endif
!if "${COMPRESSOR}" == "off"
  SetCompress off
!else
  SetCompressor /SOLID ${COMPRESSOR}
!endif

!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include Sections.nsh

; --- what is built, from the build's own files ---------------------------------------------------
!ifndef VERSION
  !searchparse /file "..\..\molt_desktop\version.py" `__version__ = "` VERSION `"`
!endif
!ifndef DIST
  !define DIST "..\..\dist\molt-desktop"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\dist\MoltDesktop-${VERSION}-setup.exe"
!endif
; The numeric X.X.X.X version Windows shows in the file properties: the leading number of each
; part of a PEP 440 version (0.2.0rc1, 1.3b2, 1.0.0.dev4, 2.1.0+local -> 0.2.0, 1.3.0, ...).
!echo "molt-desktop ${VERSION}: ${DIST} -> ${OUTFILE}"
!macro _LeadingNumber IN OUT
  !searchreplace _${OUT}_1 "${IN}" "rc" "."
  !searchreplace _${OUT}_2 "${_${OUT}_1}" "a" "."
  !searchreplace _${OUT}_3 "${_${OUT}_2}" "b" "."
  !searchreplace _${OUT}_4 "${_${OUT}_3}" "+" "."
  !searchparse /noerrors "${_${OUT}_4}" "" ${OUT} "."
  !ifndef ${OUT}
    !define ${OUT} "${_${OUT}_4}"
  !endif
!macroend
!searchparse /noerrors "${VERSION}" "" VER_MAJOR_PART "." VER_MINOR_PART "." VER_PATCH_PART
!ifndef VER_MINOR_PART
  !define VER_MINOR_PART 0
!endif
!ifndef VER_PATCH_PART
  !define VER_PATCH_PART 0
!endif
!insertmacro _LeadingNumber "${VER_MAJOR_PART}" VER_MAJOR
!insertmacro _LeadingNumber "${VER_MINOR_PART}" VER_MINOR
!insertmacro _LeadingNumber "${VER_PATCH_PART}" VER_PATCH_NUM

!define APP_NAME "Molt Desktop"
!define APP_KEY "MoltDesktop"                 ; folder, registry and Run value name (autostart.py)
!define APP_EXE "MoltDesktop.exe"             ; the windowed app
!define CLI_EXE "molt-desktop.exe"            ; the console CLI / headless gateway
!define PUBLISHER "molt-desktop"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_KEY}"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define SETTINGS_KEY "Software\${APP_KEY}"
!define ICON "..\..\resources\icons\molt-desktop.ico"

Name "${APP_NAME}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP_KEY}"
InstallDirRegKey HKCU "${SETTINGS_KEY}" "InstallDir"
BrandingText "${APP_NAME} ${VERSION}"

VIProductVersion "${VER_MAJOR}.${VER_MINOR}.${VER_PATCH_NUM}.0"
VIAddVersionKey /LANG=0 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileDescription" "${APP_NAME} installer"
VIAddVersionKey /LANG=0 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=0 "LegalCopyright" "${PUBLISHER}"

Var PresetFile
Var WasRunning

; --- pages -------------------------------------------------------------------------------------
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
; The side picture of the welcome and finish pages (scripts/make_icons.py draws it from the icon).
!define MUI_WELCOMEFINISHPAGE_BITMAP "welcome.bmp"
!define MUI_COMPONENTSPAGE_SMALLDESC
; The language chosen once is offered again by upgrades and used by the uninstaller.
!define MUI_LANGDLL_REGISTRY_ROOT HKCU
!define MUI_LANGDLL_REGISTRY_KEY "${SETTINGS_KEY}"
!define MUI_LANGDLL_REGISTRY_VALUENAME "InstallerLanguage"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\${APP_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "$(LaunchApp)"
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "Japanese"
!insertmacro MUI_RESERVEFILE_LANGDLL

!include "strings.nsh"

; --- closing a running instance ------------------------------------------------------------------
; Files of a running program cannot be replaced, and Windows locks a running executable: one that
; cannot be opened for writing is in use. The app is first asked to quit as from its tray menu
; (`molt-desktop --quit`: it stops its gateway and saves its sessions, and returns once the app
; has gone); one that does not is ended with taskkill, this user's processes only. If a file is
; still in use after that, the user is asked to close the app (a silent install fails with
; exit code 2 and leaves the installed version as it was).
!macro InUse FILE RESULT
  StrCpy ${RESULT} 0
  ${If} ${FileExists} "${FILE}"
    ClearErrors
    FileOpen $R7 "${FILE}" a
    ${If} ${Errors}
      StrCpy ${RESULT} 1
    ${Else}
      FileClose $R7
    ${EndIf}
  ${EndIf}
!macroend

!macro CloseRunning UN
Function ${UN}CloseRunning
  StrCpy $WasRunning 0
  ReadEnvStr $R9 USERNAME
  !insertmacro InUse "$INSTDIR\${APP_EXE}" $R0
  ${If} $R0 == 1
    StrCpy $WasRunning 1
    DetailPrint "$(ClosingApp)"
    nsExec::Exec `"$INSTDIR\${CLI_EXE}" --quit`
    Pop $R8
    !insertmacro InUse "$INSTDIR\${APP_EXE}" $R0
    ${If} $R0 == 1
      nsExec::Exec `"$SYSDIR\taskkill.exe" /F /IM ${APP_EXE} /FI "USERNAME eq $R9"`
      Pop $R8
    ${EndIf}
  ${EndIf}
  ; A headless gateway started from this folder holds its files open too.
  !insertmacro InUse "$INSTDIR\${CLI_EXE}" $R0
  ${If} $R0 == 1
    nsExec::Exec `"$SYSDIR\taskkill.exe" /F /IM ${CLI_EXE} /FI "USERNAME eq $R9"`
    Pop $R8
  ${EndIf}
  ; Ended processes let go of their files within moments; then ask, or give up when silent.
  StrCpy $R6 0
  ${Do}
    !insertmacro InUse "$INSTDIR\${APP_EXE}" $R0
    !insertmacro InUse "$INSTDIR\${CLI_EXE}" $R1
    ${If} $R0 == 0
    ${AndIf} $R1 == 0
      ${Break}
    ${EndIf}
    IntOp $R6 $R6 + 1
    ${If} $R6 > 20
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "$(StillRunning)" /SD IDCANCEL IDRETRY +3
      SetErrorLevel 2
      Quit
      StrCpy $R6 0
    ${EndIf}
    Sleep 250
  ${Loop}
FunctionEnd
!macroend
!insertmacro CloseRunning ""
!insertmacro CloseRunning "un."

; --- install -----------------------------------------------------------------------------------
Section "!$(SecApp)" SecApp
  SectionIn RO
  SetShellVarContext current
  Call CloseRunning
  SetOutPath "$INSTDIR"
  ; An upgrade replaces the bundle as a whole: no module of the old version stays behind.
  RMDir /r "$INSTDIR\_internal"
  File /r "${DIST}\*"
  ${If} $PresetFile != ""
    CopyFiles /SILENT "$PresetFile" "$INSTDIR\preset.json5"
    DetailPrint "$(PresetCopied)"
  ${EndIf}
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}"

  WriteRegStr HKCU "${SETTINGS_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${APP_EXE}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section "$(SecDesktop)" SecDesktop
  SetShellVarContext current
  CreateShortcut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}"
SectionEnd

Section /o "$(SecAutostart)" SecAutostart
  ; The value the app's own "Start at login" setting writes (molt_desktop/autostart.py).
  WriteRegStr HKCU "${RUN_KEY}" "${APP_KEY}" '"$INSTDIR\${APP_EXE}"'
SectionEnd

Section "-finish"
  SetShellVarContext current
  ; The language for upgrades and the uninstaller (MUI saves it only when its pages run, and a
  ; silent install shows none).
  WriteRegStr HKCU "${SETTINGS_KEY}" "InstallerLanguage" $LANGUAGE
  ; Unticked on an upgrade means: no longer wanted.
  ${IfNot} ${SectionIsSelected} ${SecDesktop}
    Delete "$DESKTOP\${APP_NAME}.lnk"
  ${EndIf}
  ${IfNot} ${SectionIsSelected} ${SecAutostart}
    DeleteRegValue HKCU "${RUN_KEY}" "${APP_KEY}"
  ${EndIf}
  ; A silent upgrade gives the user back the app it had to close; a silent first install
  ; leaves starting it to the roll-out script (or to the next login).
  ${If} ${Silent}
  ${AndIf} $WasRunning == 1
    Exec '"$INSTDIR\${APP_EXE}"'
  ${EndIf}
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecApp} "$(SecAppDesc)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "$(SecDesktopDesc)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} "$(SecAutostartDesc)"
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; Sets section `SEC` from option `OPTION` (0 or 1) when given, else leaves it as it is.
!macro OptionToSection PARAMS OPTION SEC
  ClearErrors
  ${GetOptions} "${PARAMS}" "${OPTION}" $R1
  ${IfNot} ${Errors}
    ${If} $R1 == 0
      !insertmacro UnselectSection ${SEC}
    ${Else}
      !insertmacro SelectSection ${SEC}
    ${EndIf}
  ${EndIf}
!macroend

Function .onInit
  SetShellVarContext current
  !insertmacro MUI_LANGDLL_DISPLAY
  ; An upgrade keeps the choices made before: the shortcut and the login item as they are now.
  ReadRegStr $R0 HKCU "${SETTINGS_KEY}" "InstallDir"
  ${If} $R0 != ""
    ${IfNot} ${FileExists} "$DESKTOP\${APP_NAME}.lnk"
      !insertmacro UnselectSection ${SecDesktop}
    ${EndIf}
  ${EndIf}
  ReadRegStr $R0 HKCU "${RUN_KEY}" "${APP_KEY}"
  ${If} $R0 != ""
    !insertmacro SelectSection ${SecAutostart}
  ${EndIf}

  ${GetParameters} $R0
  !insertmacro OptionToSection $R0 "/DESKTOP=" ${SecDesktop}
  !insertmacro OptionToSection $R0 "/AUTOSTART=" ${SecAutostart}
  StrCpy $PresetFile ""
  ClearErrors
  ${GetOptions} $R0 "/PRESET=" $R1
  ${IfNot} ${Errors}
    GetFullPathName $R2 $R1
    ${IfNot} ${FileExists} $R2
      ; A roll-out with a wrong preset path should fail where the administrator sees it.
      MessageBox MB_OK|MB_ICONSTOP "$(PresetMissing)$\r$\n$R1" /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
    StrCpy $PresetFile $R2
  ${EndIf}
FunctionEnd

; --- uninstall ---------------------------------------------------------------------------------
; In this order: the app is closed and its shortcuts and login item go; then, if ticked, the
; user's data (while the bundle's CLI is still there to clear the keyring); then the bundle.
Section "un.$(SecApp)" UnSecApp
  SectionIn RO
  SetShellVarContext current
  Call un.CloseRunning
  Delete "$SMPROGRAMS\${APP_NAME}.lnk"
  Delete "$DESKTOP\${APP_NAME}.lnk"
  DeleteRegValue HKCU "${RUN_KEY}" "${APP_KEY}"
SectionEnd

Section /o "un.$(SecRemoveData)" UnSecRemoveData
  SetShellVarContext current
  ; The secrets the app keeps in the Windows Credential Manager (service molt-desktop).
  DetailPrint "$(ForgettingSecrets)"
  nsExec::Exec `"$INSTDIR\${CLI_EXE}" secrets forget --all`
  Pop $R8
  ; The app's state dir (molt_desktop/paths.py): settings, sessions, device identity, logs.
  RMDir /r "$APPDATA\${APP_KEY}"
SectionEnd

Section "-un.files"
  ; Only what the installer put there: a folder the user chose may hold other files.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${APP_EXE}"
  Delete "$INSTDIR\${CLI_EXE}"
  Delete "$INSTDIR\preset.json5"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "${SETTINGS_KEY}"
SectionEnd

!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecApp} "$(UnSecAppDesc)"
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecRemoveData} "$(SecRemoveDataDesc)"
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END

Function un.onInit
  SetShellVarContext current
  !insertmacro MUI_UNGETLANGUAGE
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/REMOVEDATA" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${UnSecRemoveData}
  ${EndIf}
FunctionEnd
