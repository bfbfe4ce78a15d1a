; Inno Setup 6 script for Azure OpenAI Chat: per-user install, no administrator rights needed.
; Built by packaging/windows/build.ps1, which passes /DAppVersion=... /DSourceDir=... /DOutputDir=... /DIconFile=...
; Uninstalling keeps the user's conversations and settings unless the user explicitly answers Yes to deleting them.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\azure-openai-chat"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#ifndef IconFile
  #define IconFile "..\..\build\icons\azure-openai-chat.ico"
#endif

#define AppName "Azure OpenAI Chat"
#define AppExe "azure-openai-chat.exe"
; platformdirs' user_data_dir / user_config_dir on Windows: %LOCALAPPDATA%\<author>\<app>
#define DataDir "{localappdata}\AzureOpenAIChat\azure-openai-chat"

[Setup]
; A fixed AppId keeps upgrades in place: never change it.
AppId={{6C1A7E0B-3F52-4B8E-9A41-2D7C5E9F1B34}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Azure OpenAI Chat developers
VersionInfoVersion={#AppVersion}
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=azure-openai-chat-{#AppVersion}-windows-x64-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
; SignTool is defined on the ISCC command line by build.ps1 only when a certificate is available.
#ifdef SignToolName
SignTool={#SignToolName}
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the whole bundle so no stale library of an older version lingers.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
Type: filesandordirs; Name: "{app}"

[Code]
var
  DeleteUserData: Boolean;

function InitializeUninstall(): Boolean;
begin
  Result := True;
  DeleteUserData := False;
  { Silent uninstalls (IT deployment tools) never delete user data. Otherwise the user must opt in: }
  { the default button is "No", so pressing Enter keeps the conversations. }
  if not UninstallSilent() then
    DeleteUserData := MsgBox('Also delete your conversations and settings?' + #13#10#13#10 +
      'Choose No to keep them for a later reinstall (recommended).',
      mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and DeleteUserData then
  begin
    DelTree(ExpandConstant('{#DataDir}'), True, True, True);
    RemoveDir(ExpandConstant('{localappdata}\AzureOpenAIChat'));  { only when now empty }
  end;
end;
